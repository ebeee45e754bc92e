/**
 * The live monitor's detection cannot stop the record service (issue 23, finding 0): a user who
 * opened well over 1,000 different charts a day (λ past 745, where the Poisson tail used to
 * underflow and its quantile search never ended) is scanned to the end while the server answers;
 * a detector that never returns is stopped at the deadline (monitor.detectSeconds), the cursor
 * stays and the next run does the work; stopping the service (SIGTERM) ends a running detection.
 *
 * Detection is held or made to hang by test workers (test/helpers/*DetectWorker.ts) that say on a
 * BroadcastChannel when they have begun, and the deadline's clock is injected and fired by hand: no
 * sleeps, and nothing here depends on how long anything takes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log.js';
import { MonitorService, type DeadlineTimer, type MonitorOptions } from '../src/monitor/live/index.js';
import { appendChartReads } from './helpers/chartReads.js';
import { DETECT_CHANNEL, nextSignal } from './helpers/detectChannel.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const DAY = 86_400_000;
const BUSY = 'Practitioner/busy-clerk';
const CHARTS_A_DAY = 1200;
const BUSY_DAYS = 6;

/** A deadline clock the test fires by hand. */
function manualDeadline() {
  const pending: Array<{ ms: number; expire: () => void; cancelled: boolean }> = [];
  const timer: DeadlineTimer = (ms, expire) => {
    const d = { ms, expire, cancelled: false };
    pending.push(d);
    return () => {
      d.cancelled = true;
    };
  };
  return { timer, pending };
}

/** The worker's signal; a scan that settles first never ran its detection in a worker. */
function beforeScanEnds<T>(signal: Promise<T>, scan: Promise<unknown>): Promise<T> {
  const ended = scan.then(
    () => Promise.reject(new Error('the scan ended without its detection worker having begun')),
    (err: Error) => Promise.reject(new Error(`the scan failed before its detection worker had begun: ${err.message}`)),
  );
  return Promise.race([signal, ended]);
}

describe('live monitor: detection in a worker thread, with a deadline', () => {
  let s: TestServer;
  let doctor: string;
  let channel: BroadcastChannel;
  const logLines: string[] = [];

  /** A MonitorService of the test server's parts, with its own detector and clock, logging into logLines. */
  const monitorWith = (options: MonitorOptions, monitorJson: object = {}) => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const { db, keyring, fhir, audit, notices, settings } = s.cw;
    return new MonitorService(
      db,
      keyring,
      fhir,
      audit,
      notices.send,
      { ...settings, monitor: monitorJson } as typeof settings,
      createLogger('info', sink),
      options,
    );
  };
  const gated = { callerUrl: import.meta.url, baseName: 'helpers/gatedDetectWorker' };
  const stuck = { callerUrl: import.meta.url, baseName: 'helpers/stuckDetectWorker' };
  const cursor = async () => Number((await s.cw.db.query<{ next_index: string }>('select next_index from monitor_cursor')).rows[0].next_index);
  const leaseHolder = async () => (await s.cw.db.query<{ lease_holder: string | null }>('select lease_holder from monitor_cursor')).rows[0].lease_holder;
  const logSize = async () => (await s.cw.audit.log.head()).size;

  /** Reads by the busy clerk's account, under the given practitioner. */
  const seedReads = (user: string, reads: Array<{ patient: string; time: number }>) =>
    appendChartReads(s.cw, { account: 'acct-busy', username: 'busy-clerk', practitioner: user, roles: ['physician'] }, reads);

  /** The server still answering: a physician files a new chart for her own patient and opens it. */
  async function serverAnswers(family: string): Promise<void> {
    const created = await call(s.url, 'POST', '/fhir/Patient', {
      token: doctor,
      body: { resourceType: 'Patient', name: [{ family }], generalPractitioner: [{ reference: s.practitionerOf(doctor) }] },
    });
    assert.equal(created.status, 201);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${created.body.id}`, { token: doctor })).status, 200);
  }

  before(async () => {
    s = await startTestServer();
    doctor = await s.login(['physician'], 'dr-answering');
    channel = new BroadcastChannel(DETECT_CHANNEL);
  });
  after(async () => {
    channel?.close();
    await s?.close();
  });

  test('the window the detectors get: the last windowDays, in time order, at most maxEvents of them, the newest', async () => {
    const now = Date.now();
    const user = 'Practitioner/window-clerk';
    await seedReads(
      user,
      Array.from({ length: 100 }, (_, i) => ({ patient: `old-pt-${i}`, time: now - 20 * DAY + i * 1000 })),
    );
    const recent = Array.from({ length: 300 }, (_, i) => ({ patient: `recent-pt-${i}`, time: now - 2 * DAY + i * 60_000 }));
    await seedReads(user, recent);
    const scanHeld = async (monitorJson: object) => {
      const scan = monitorWith({ detector: gated }, monitorJson).scanNow();
      const held = await beforeScanEnds(nextSignal(channel, 'detecting'), scan);
      channel.postMessage('go');
      await scan;
      return held;
    };
    const all = await scanHeld({ windowDays: 14, maxEvents: 100_000 });
    assert.equal(all.events, 300, 'the accesses of twenty days ago are outside the window');
    assert.equal(all.first, recent[0].time);
    assert.equal(all.last, recent[299].time);
    const later = Array.from({ length: 10 }, (_, i) => ({ patient: `later-pt-${i}`, time: now - DAY + i * 60_000 }));
    await seedReads(user, later); // new records: the next scan detects again
    const capped = await scanHeld({ windowDays: 14, maxEvents: 250 });
    assert.equal(capped.events, 250, 'no more than maxEvents');
    assert.equal(capped.first, recent[60].time, 'the newest 250 of 310');
    assert.equal(capped.last, later[9].time);
  });

  test('a user who opened 1,200 different charts a day is scanned to the end while the server answers', async () => {
    // Each of the last six days, the same 1,200 charts one after another over eight hours.
    const now = Date.now();
    const reads: Array<{ patient: string; time: number }> = [];
    for (let d = BUSY_DAYS; d >= 1; d--) {
      for (let i = 0; i < CHARTS_A_DAY; i++) reads.push({ patient: `busy-pt-${(i * 7919) % CHARTS_A_DAY}`, time: now - d * DAY + i * 24_000 });
    }
    await seedReads(BUSY, reads);
    const end = await logSize();

    const monitor = monitorWith({ detector: gated });
    const detecting = nextSignal(channel, 'detecting');
    const scan = monitor.scanNow();
    const held = await beforeScanEnds(detecting, scan);
    assert.ok(held.events >= CHARTS_A_DAY * BUSY_DAYS, 'the busy days are in the window the detectors get');
    assert.ok(held.users.includes(BUSY));
    // Detection has begun and is held in its worker: the record service answers all the same.
    await serverAnswers('Duringscan');
    channel.postMessage('go');
    const result = await scan;
    assert.ok(result.processed >= reads.length);
    assert.ok((await cursor()) >= end, 'the cursor moved past the busy records');
    assert.equal(await leaseHolder(), null);
  });

  test("the server's own monitor scans another such day to the end", async () => {
    const now = Date.now();
    await seedReads(
      BUSY,
      Array.from({ length: CHARTS_A_DAY }, (_, i) => ({ patient: `busy-pt-${(i * 104_729) % CHARTS_A_DAY}`, time: now - 3_600_000 + i * 2000 })),
    );
    const end = await logSize();
    const result = await s.cw.monitor.scanNow();
    assert.ok(result.processed >= CHARTS_A_DAY);
    assert.ok((await cursor()) >= end);
  });

  test('a detector that never returns is stopped at the deadline; the cursor stays and the next run does the work', async () => {
    await seedReads('Practitioner/late-reader', [{ patient: 'late-pt-1', time: Date.now() - 60_000 }]);
    const from = await cursor();
    const deadline = manualDeadline();
    const monitor = monitorWith({ detector: stuck, deadlineTimer: deadline.timer }, { detectSeconds: 42 });
    const spinning = nextSignal(channel, 'stuck');
    const scan = monitor.scanNow();
    await beforeScanEnds(spinning, scan);
    assert.equal(deadline.pending.length, 1);
    assert.equal(deadline.pending[0].ms, 42_000, 'the deadline is carewall.json monitor.detectSeconds');
    // The worker spins; this thread does not.
    await serverAnswers('Whilestuck');
    const logged = logLines.length;
    deadline.pending[0].expire();
    await assert.rejects(scan, (err: Error & { status?: number }) => err.status === 503 && /did not finish within/.test(err.message));
    assert.equal(await cursor(), from, 'the records are not counted as scanned');
    assert.equal(await leaseHolder(), null, 'the lease is given back');
    const failure = logLines.slice(logged).join('');
    assert.match(failure, /live scan failed: detection stopped at its deadline/);
    assert.match(failure, /"detectSeconds":42/);
    assert.ok(!/late-pt|busy-pt|late-reader|busy-clerk/.test(failure), 'no patient or user in the log');
    await serverAnswers('Afterdeadline');

    // The next run (the real detector) reads the same records again, and moves the cursor.
    const next = await monitorWith({}).scanNow();
    assert.ok(next.processed >= 1);
    assert.ok((await cursor()) > from);
  });

  test('monitor.detectSeconds must leave the scan inside its lease', () => {
    assert.equal(monitorWith({}).settings.detectSeconds, 300, 'a few minutes by default');
    for (const bad of [0, -1, 481, Number.NaN, '60']) assert.throws(() => monitorWith({}, { detectSeconds: bad }), /monitor\.detectSeconds/);
    assert.equal(monitorWith({}, { detectSeconds: 480 }).settings.detectSeconds, 480);
  });

  test('stopping the service (as on SIGTERM) ends a detection that never returns', async () => {
    await seedReads('Practitioner/late-reader', [{ patient: 'late-pt-2', time: Date.now() - 30_000 }]);
    const from = await cursor();
    const deadline = manualDeadline();
    const monitor = monitorWith({ detector: stuck, deadlineTimer: deadline.timer });
    const spinning = nextSignal(channel, 'stuck');
    const scan = monitor.scanNow();
    const settled = scan.then(
      () => 'resolved',
      (err: Error & { status?: number }) => `rejected ${err.status}`,
    );
    await beforeScanEnds(spinning, scan);
    await monitor.stop();
    assert.equal(await settled, 'rejected 503', 'the scan ended with the stop, not at a deadline');
    assert.ok(
      deadline.pending.every((d) => d.cancelled),
      'the deadline was not what ended it',
    );
    assert.equal(await cursor(), from);
    assert.equal(await leaseHolder(), null);
  });
});
