/**
 * The maintenance window's next occurrence (src/director/window.ts), in the site's time zone, across
 * daylight saving time: the director signs an instruction for exactly this interval, and the device
 * refuses outside it. A wrong occurrence would let a pump update at a time the ward did not agree to.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currentOrNextOccurrence } from '../src/director/index.js';
import type { MaintenanceWindow } from '../src/shared/index.js';

const sundays = (start: string, end: string, timeZone = 'Europe/Berlin'): MaintenanceWindow => ({ days: ['sun'], start, end, timeZone });
const iso = (o: { start: Date; end: Date } | undefined) => o && [o.start.toISOString(), o.end.toISOString()];
// Berlin: 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST falls back to 02:00 CET.
const SAT_BEFORE_SPRING = new Date('2026-03-28T12:00:00Z');
const SAT_BEFORE_FALL = new Date('2026-10-24T12:00:00Z');

describe('maintenance windows: the next occurrence in local time', () => {
  test('an ordinary week: local times at the zone offset of that day (winter and summer)', () => {
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('02:00', '04:00')], new Date('2026-01-07T12:00:00Z'))), [
      '2026-01-11T01:00:00.000Z',
      '2026-01-11T03:00:00.000Z',
    ]);
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('02:00', '04:00')], new Date('2026-07-08T12:00:00Z'))), [
      '2026-07-12T00:00:00.000Z',
      '2026-07-12T02:00:00.000Z',
    ]);
  });

  test('the window open now is the one signed for, until its end; then the next week', () => {
    const w = [sundays('02:00', '04:00', 'UTC')];
    assert.deepEqual(iso(currentOrNextOccurrence(w, new Date('2026-01-11T03:59:00Z'))), ['2026-01-11T02:00:00.000Z', '2026-01-11T04:00:00.000Z']);
    assert.deepEqual(iso(currentOrNextOccurrence(w, new Date('2026-01-11T04:00:00Z'))), ['2026-01-18T02:00:00.000Z', '2026-01-18T04:00:00.000Z']);
  });

  test('a window past midnight that opened yesterday is still open', () => {
    const w: MaintenanceWindow = { days: ['sat'], start: '22:00', end: '02:00', timeZone: 'America/New_York' };
    // Saturday 2026-01-10 22:00 EST is 03:00Z on Sunday; now is Sunday 01:00 EST.
    assert.deepEqual(iso(currentOrNextOccurrence([w], new Date('2026-01-11T06:00:00Z'))), ['2026-01-11T03:00:00.000Z', '2026-01-11T07:00:00.000Z']);
  });

  test('spring forward: a start the clocks skip opens when the skip ends; a window wholly skipped does not happen that night', () => {
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('02:30', '04:00')], SAT_BEFORE_SPRING)), [
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first instant after the skip
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
    ]);
    // 02:00–03:00 lies in the skipped hour: not a day-long window, no occurrence that night (and the
    // next Sunday is beyond the eight days looked ahead, so nothing is signed yet).
    assert.equal(currentOrNextOccurrence([sundays('02:00', '03:00')], SAT_BEFORE_SPRING), undefined);
    assert.equal(currentOrNextOccurrence([sundays('02:15', '02:45')], SAT_BEFORE_SPRING), undefined);
    // The end skipped instead: 01:00–02:30 closes at 03:00 CEST, an hour and a half of wall clock in one real hour.
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('01:00', '02:30')], SAT_BEFORE_SPRING)), ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
  });

  test('fall back: a local time that happens twice counts from its first occurrence', () => {
    // 02:00–03:00 on the night 03:00 CEST becomes 02:00 CET: 02:00 CEST (00:00Z) to 03:00 CET (02:00Z).
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('02:00', '03:00')], SAT_BEFORE_FALL)), ['2026-10-25T00:00:00.000Z', '2026-10-25T02:00:00.000Z']);
    // 01:00–02:30 ends at the first 02:30 (CEST), not the second an hour later.
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('01:00', '02:30')], SAT_BEFORE_FALL)), ['2026-10-24T23:00:00.000Z', '2026-10-25T00:30:00.000Z']);
  });

  test('the southern hemisphere: Sydney leaves summer time in April', () => {
    // 2026-04-05 03:00 AEDT falls back to 02:00 AEST; a window 01:00–04:00 lasts four real hours.
    const w = sundays('01:00', '04:00', 'Australia/Sydney');
    assert.deepEqual(iso(currentOrNextOccurrence([w], new Date('2026-04-03T00:00:00Z'))), ['2026-04-04T14:00:00.000Z', '2026-04-04T18:00:00.000Z']);
  });

  test('of several windows, the earliest to open; none, or only malformed ones: no occurrence', () => {
    const now = new Date('2026-01-07T12:00:00Z'); // a Wednesday
    const thursday: MaintenanceWindow = { days: ['thu'], start: '23:00', end: '23:30', timeZone: 'UTC' };
    assert.deepEqual(iso(currentOrNextOccurrence([sundays('02:00', '04:00', 'UTC'), thursday], now)), ['2026-01-08T23:00:00.000Z', '2026-01-08T23:30:00.000Z']);
    assert.equal(currentOrNextOccurrence([], now), undefined);
    const broken = [
      { ...thursday, timeZone: 'Mars/Olympus_Mons' },
      { ...thursday, start: '24:00' },
      { ...thursday, days: [] },
    ] as MaintenanceWindow[];
    assert.equal(currentOrNextOccurrence(broken, now), undefined);
  });
});
