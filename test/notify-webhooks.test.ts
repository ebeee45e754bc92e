/**
 * Webhooks (src/notify): a receiver that is down or busy is tried again with doubling pauses; a
 * refusal is not retried; giving up is logged without the URL's path or the payload. The pauses
 * are noted, not waited: the test passes its own.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger } from '../src/log.js';
import { Webhooks } from '../src/notify/index.js';

describe('notification webhooks', () => {
  let server: http.Server;
  let base: string;
  /** Status codes to answer, in order, per path; then 200. */
  const script = new Map<string, number[]>();
  const received: Array<{ path: string; body: unknown }> = [];
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url!, body: JSON.parse(body) });
        const status = script.get(req.url!)?.shift() ?? 200;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  function hooks(urls: string[]) {
    const pauses: number[] = [];
    const lines: string[] = [];
    const log = createLogger('error', new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
    const w = new Webhooks(urls, log, { pause: async (ms) => void pauses.push(ms) });
    return { w, pauses, lines };
  }

  test('a busy receiver gets the same payload again after 1, then 2 seconds, and once it answers, no more', async () => {
    script.set('/busy', [503, 429]);
    const { w, pauses } = hooks([`${base}/busy`]);
    w.send({ type: 'carewall.access-grant', grant: 'g1' });
    await w.settle();
    const got = received.filter((r) => r.path === '/busy');
    assert.equal(got.length, 3);
    assert.ok(got.every((r) => (r.body as { grant: string }).grant === 'g1'));
    assert.deepEqual(pauses, [1000, 2000]);
  });

  test('a refusal (400) is not retried', async () => {
    script.set('/refuses', [400]);
    const { w, pauses, lines } = hooks([`${base}/refuses`]);
    w.send({ type: 'x' });
    await w.settle();
    assert.equal(received.filter((r) => r.path === '/refuses').length, 1);
    assert.deepEqual(pauses, []);
    assert.match(lines.join(''), /status 400/);
  });

  test('a receiver that never answers is tried five times, then given up in the log without its path or the payload', async () => {
    script.set('/down-secret-token', [500, 500, 500, 500, 500, 500]);
    const { w, pauses, lines } = hooks([`${base}/down-secret-token`]);
    w.send({ type: 'carewall.mass-change', message: 'the message' });
    await w.settle();
    assert.equal(received.filter((r) => r.path === '/down-secret-token').length, 5);
    assert.deepEqual(pauses, [1000, 2000, 4000, 8000]);
    const log = lines.join('');
    assert.match(log, /not delivered/);
    assert.ok(!log.includes('secret-token') && !log.includes('the message'));
  });

  test('an unreachable address is retried too, and one URL failing does not stop the others', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/gone`;
    await new Promise<void>((r) => closed.close(() => r()));
    const { w, pauses } = hooks([dead, `${base}/fine`]);
    w.send({ type: 'y' });
    await w.settle();
    assert.equal(received.filter((r) => r.path === '/fine').length, 1);
    assert.deepEqual(pauses, [1000, 2000, 4000, 8000]);
  });
});
