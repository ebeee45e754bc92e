/**
 * The awareness programme's pure parts: when messages go out (business hours in each zone, across
 * a daylight-saving change, seeded), and whether a click was a person or a machine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DateTime } from 'luxon';
import { judgeClicks, scannerRanges, sendingTimes } from '../src/awareness/index.js';
import { toCsv, summarise, type Outcome } from '../src/awareness/figures.js';

describe('sending times', () => {
  // The window holds Europe's change back to winter time (25 October 2026, 03:00 → 02:00 in Berlin).
  const window = { start: '2026-10-22T00:00:00Z', end: '2026-10-28T00:00:00Z', from: '08:30', to: '12:00', days: [1, 2, 3, 4, 5] };
  const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'Pacific/Chatham'];
  const people = Array.from({ length: 500 }, (_, i) => ({ id: `p${i}`, timeZone: zones[i % zones.length] }));

  test('every message arrives within business hours on a working day, in its reader’s own zone', () => {
    const times = sendingTimes(window, people, 42);
    for (const p of people) {
      const at = times.get(p.id);
      assert.ok(at, `${p.timeZone} has business hours in the window`);
      const local = DateTime.fromJSDate(at).setZone(p.timeZone);
      const minutes = local.hour * 60 + local.minute;
      assert.ok(minutes >= 8 * 60 + 30 && minutes < 12 * 60, `${p.timeZone}: ${local.toISO()}`);
      assert.ok(local.weekday <= 5, `${p.timeZone}: ${local.toISO()} is a working day`);
      assert.ok(at >= new Date(window.start) && at <= new Date(window.end));
    }
  });

  test('messages are spread, not sent in one burst; the same seed gives the same plan', () => {
    const a = sendingTimes(window, people, 7);
    const b = sendingTimes(window, people, 7);
    const c = sendingTimes(window, people, 8);
    assert.deepEqual([...a.entries()], [...b.entries()]);
    assert.notDeepEqual([...a.entries()], [...c.entries()]);
    const berlinDays = new Set(
      people.filter((p) => p.timeZone === 'Europe/Berlin').map((p) => DateTime.fromJSDate(a.get(p.id)!).setZone('Europe/Berlin').toISODate()),
    );
    assert.ok(berlinDays.size >= 4, `spread over the window's working days (${[...berlinDays].join(', ')})`);
  });

  test('a zone with no business hours inside the window gets no time (the campaign refuses it)', () => {
    const saturday = { ...window, start: '2026-10-24T06:00:00Z', end: '2026-10-24T20:00:00Z' };
    assert.equal(sendingTimes(saturday, [{ id: 'x', timeZone: 'Europe/Berlin' }], 1).get('x'), undefined);
  });
});

describe('clicks by people and by machines', () => {
  const none = scannerRanges([]).list;
  const delivered = new Date('2026-12-01T10:00:00Z');
  const at = (seconds: number) => new Date(delivered.getTime() + seconds * 1000);
  const browser = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

  test('a person: a browser, later than delivery, whose page ran its script', () => {
    const j = judgeClicks(
      [
        { n: 1, kind: 'click', at: at(600), ip: '10.0.0.5', userAgent: browser },
        { n: 2, kind: 'beacon', at: at(601), ip: '10.0.0.5', userAgent: browser, click: 1 },
      ],
      delivered,
      none,
    );
    assert.deepEqual(j.get(1), { automatic: false, reasons: [] });
  });

  test('conclusive: a scanner or program by name, no User-Agent, a scanner address, or no script run', () => {
    const ranges = scannerRanges(['40.92.0.0/15', '2a01:111::/32']).list;
    const cases = [
      { userAgent: 'Mozilla/5.0 (compatible; BingPreview/1.0b)', ip: '10.0.0.9', beacon: true, why: /scanner, previewer or program/ },
      { userAgent: 'Go-http-client/1.1', ip: '10.0.0.9', beacon: true, why: /program/ },
      { userAgent: undefined, ip: '10.0.0.9', beacon: true, why: /no User-Agent/ },
      { userAgent: browser, ip: '40.93.4.4', beacon: true, why: /scanners' ranges/ },
      { userAgent: browser, ip: '2a01:111:f400::5', beacon: true, why: /scanners' ranges/ },
      { userAgent: browser, ip: '10.0.0.9', beacon: false, why: /script never ran/ },
    ];
    for (const c of cases) {
      const requests = [
        { n: 1, kind: 'click' as const, at: at(900), ip: c.ip, ...(c.userAgent ? { userAgent: c.userAgent } : {}) },
        ...(c.beacon ? [{ n: 2, kind: 'beacon' as const, at: at(901), ip: c.ip, userAgent: browser, click: 1 }] : []),
      ];
      const j = judgeClicks(requests, delivered, ranges).get(1)!;
      assert.equal(j.automatic, true, String(c.why));
      assert.ok(
        j.reasons.some((r) => c.why.test(r)),
        `${c.why}: ${j.reasons.join('; ')}`,
      );
    }
  });

  test('suggestive signs count only together: an early click alone is a quick reader; early in a burst is a scanner', () => {
    const quick = judgeClicks(
      [
        { n: 1, kind: 'click', at: at(4), ip: '10.0.0.5', userAgent: browser },
        { n: 2, kind: 'beacon', at: at(5), ip: '10.0.0.5', userAgent: browser, click: 1 },
      ],
      delivered,
      none,
    ).get(1)!;
    assert.equal(quick.automatic, false);
    // A detonation sandbox: runs the script, but fetches the pixel and the link from several addresses at once, seconds after delivery.
    const burst = judgeClicks(
      [
        { n: 1, kind: 'open', at: at(2), ip: '203.0.113.10', userAgent: browser },
        { n: 2, kind: 'click', at: at(2.5), ip: '203.0.113.11', userAgent: browser },
        { n: 3, kind: 'beacon', at: at(3), ip: '203.0.113.11', userAgent: browser, click: 2 },
      ],
      delivered,
      none,
    ).get(2)!;
    assert.equal(burst.automatic, true);
    assert.ok(burst.reasons.some((r) => /burst/.test(r)) && burst.reasons.some((r) => /within 10 s/.test(r)));
  });

  test('a beacon counts only for the click whose page sent it', () => {
    const j = judgeClicks(
      [
        { n: 1, kind: 'click', at: at(900), ip: '10.0.0.5', userAgent: browser },
        { n: 2, kind: 'click', at: at(1900), ip: '10.0.0.5', userAgent: browser },
        { n: 3, kind: 'beacon', at: at(1901), ip: '10.0.0.5', userAgent: browser, click: 2 },
      ],
      delivered,
      none,
    );
    assert.equal(j.get(1)!.automatic, true);
    assert.equal(j.get(2)!.automatic, false);
  });

  test('ranges that are not CIDR are reported, not silently ignored', () => {
    assert.deepEqual(scannerRanges(['10.0.0.0/8', '10.0.0.0/33', 'nonsense']).invalid, ['10.0.0.0/33', 'nonsense']);
  });
});

describe('figures', () => {
  const outcome = (o: Partial<Outcome>): Outcome => ({
    targetId: 't',
    campaignId: 'c',
    personId: String(Math.random()),
    department: 'Ward',
    templateId: 'x',
    sentAt: new Date('2026-12-01T10:00:00Z'),
    sent: true,
    delivered: true,
    bounced: false,
    opened: false,
    clicked: false,
    scannerClicks: [],
    submitted: false,
    trained: false,
    ...o,
  });

  test('shares are over what reached people; scanner clicks are not phish-prone; the median is of the reported', () => {
    const r = summarise([
      outcome({ clicked: true, opened: true }),
      outcome({ submitted: true }),
      outcome({ scannerClicks: [{ at: '', reasons: ['x'] }] }),
      outcome({ reportedAt: new Date('2026-12-01T10:10:00Z') }),
      outcome({ reportedAt: new Date('2026-12-01T10:30:00Z') }),
      outcome({ reportedAt: new Date('2026-12-01T11:00:00Z') }),
      outcome({ delivered: false, bounced: true }),
    ]);
    assert.equal(r.sent, 7);
    assert.equal(r.delivered, 6);
    assert.equal(r.phishProne, Math.round((2 / 6) * 10_000) / 10_000);
    assert.equal(r.clickedByScanners, 1);
    assert.equal(r.reportRate, 0.5);
    assert.equal(r.medianMinutesToFirstReport, 30);
  });

  test('CSV cells that a spreadsheet would run as formulas are defused', () => {
    const csv = toCsv([{ department: '=HYPERLINK("http://x")', people: 3 }]);
    assert.match(csv, /"'=HYPERLINK\(""http:\/\/x""\)"/);
  });
});
