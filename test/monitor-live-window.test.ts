/**
 * The live monitor's window is read incrementally (issue 31: a live scan reads only new audit
 * records, with bounded state): after its first read a RecentWindow reads only the leaves the log
 * gained, and what it gives the detectors is exactly what reading the whole window again gives.
 * Time is injected (`now`), so nothing here depends on the clock or on how long anything takes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RecentWindow, type WindowSource } from '../src/monitor/live/window.js';
import { appendChartReads } from './helpers/chartReads.js';
import { startTestServer, type TestServer } from './helpers/harness.js';

const DAY = 86_400_000;
const WINDOW = 14 * DAY;

describe('live monitor: the window is read incrementally', () => {
  let s: TestServer;
  /** The base time of this file's records: far enough from the real clock not to meet the harness's own. */
  const t0 = Date.UTC(2031, 0, 1);
  let leavesRead = 0;
  let source: WindowSource;

  const seedReads = (user: string, reads: Array<{ patient: string; time: number }>) =>
    appendChartReads(s.cw, { account: 'acct-w', username: 'window-clerk', practitioner: user, roles: ['nurse'] }, reads, '10.9.0.8');
  const reads = (prefix: string, n: number, from: number, step: number) =>
    Array.from({ length: n }, (_, i) => ({ patient: `${prefix}-${i}`, time: from + i * step }));
  /** The same window read whole by a window that has read nothing yet. */
  const whole = (maxEvents: number, now: number) => new RecentWindow(s.cw.audit).read(WINDOW, maxEvents, now);

  before(async () => {
    s = await startTestServer();
    const audit = s.cw.audit;
    source = {
      log: {
        head: () => audit.log.head(),
        leaves: (from: number, to: number) => {
          leavesRead += to - from;
          return audit.log.leaves(from, to);
        },
      },
      firstIndexSince: (from: Date) => audit.firstIndexSince(from),
    };
  });
  after(async () => {
    await s?.close();
  });

  test('a second read takes only the new leaves and gives what a whole read gives', async () => {
    await seedReads('Practitioner/w-1', reads('w1-old', 50, t0 - 30 * DAY, 60_000));
    await seedReads('Practitioner/w-1', reads('w1-recent', 400, t0 - 3 * DAY, 60_000));
    const window = new RecentWindow(source);
    let now = t0;
    const first = await window.read(WINDOW, 100_000, now);
    assert.equal(first.length, 400, 'the accesses of thirty days ago are outside the window');
    assert.deepEqual(first, await whole(100_000, now));

    await seedReads('Practitioner/w-2', reads('w2', 25, t0 - DAY, 1000));
    now += 3_600_000;
    leavesRead = 0;
    const second = await window.read(WINDOW, 100_000, now);
    assert.equal(leavesRead, 25, 'only the 25 records appended since are read');
    assert.equal(second.length, 425);
    assert.deepEqual(second, await whole(100_000, now));

    leavesRead = 0;
    const unchanged = await window.read(WINDOW, 100_000, now);
    assert.equal(leavesRead, 0, 'nothing new, nothing read');
    assert.deepEqual(unchanged, second);
  });

  test('as time moves on, what leaves the window is dropped; the cap keeps the newest', async () => {
    const window = new RecentWindow(source);
    let now = t0 + 10 * DAY;
    await seedReads('Practitioner/w-3', reads('w3', 200, t0 + 9 * DAY, 60_000));
    const capped = await window.read(WINDOW, 300, now);
    assert.equal(capped.length, 300);
    assert.deepEqual(capped, await whole(300, now));

    // Twelve days later the first test's records (before t0) are out of the window; the cap still holds.
    now = t0 + 12 * DAY + 3_600_000;
    await seedReads('Practitioner/w-4', reads('w4', 40, t0 + 12 * DAY, 1000));
    leavesRead = 0;
    const later = await window.read(WINDOW, 300, now);
    assert.equal(leavesRead, 40);
    assert.ok(
      later.every((e) => e.t >= now - WINDOW),
      'nothing older than the window',
    );
    assert.equal(later.at(-1)?.patients[0], 'Patient/w4-39');
    assert.deepEqual(later, await whole(300, now));
  });

  test('other settings, or a log shorter than what was read, make it read the whole window again', async () => {
    const window = new RecentWindow(source);
    const now = t0 + 10 * DAY;
    await window.read(WINDOW, 300, now);
    leavesRead = 0;
    const wider = await window.read(WINDOW, 100_000, now);
    assert.ok(leavesRead > 0, 'a larger cap is read from the log, not from what the smaller one kept');
    assert.deepEqual(wider, await whole(100_000, now));

    // A log shorter than what was read (a database restored from a backup): the stale window must go.
    let cut: number | undefined = undefined;
    const cutSource: WindowSource = {
      ...source,
      log: {
        ...source.log,
        head: async () => {
          const head = await source.log.head();
          return cut === undefined ? head : { ...head, size: cut };
        },
      },
    };
    const restored = new RecentWindow(cutSource);
    const beforeCut = await restored.read(WINDOW, 100_000, now);
    cut = (await source.log.head()).size - 40; // the second test's last 40 records are gone
    leavesRead = 0;
    const afterCut = await restored.read(WINDOW, 100_000, now);
    assert.ok(leavesRead > 0, 'read again from the log');
    assert.equal(afterCut.length, beforeCut.length - 40);
    assert.ok(!afterCut.some((e) => e.patients[0].startsWith('Patient/w4-')));
    assert.deepEqual(afterCut, await new RecentWindow(cutSource).read(WINDOW, 100_000, now));
  });
});
