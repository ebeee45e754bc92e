/**
 * How the posture scorecard reads the clinic (issue 27): sign-ins from outside the clinic's own
 * networks and from several places at once, the release feed, and the `posture` settings.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Settings } from '../src/config.js';
import { DEFAULT_CLINIC_NETWORKS, insideNetworks, postureSettings, readReleaseFeed, signInFacts, type SessionSpan } from '../src/posture/index.js';

const T0 = Date.parse('2026-12-01T08:00:00Z');
const span = (username: string, address: string | undefined, fromMin: number, toMin: number): SessionSpan => ({
  username,
  ...(address ? { address } : {}),
  from: new Date(T0 + fromMin * 60_000),
  to: new Date(T0 + toMin * 60_000),
});

describe('sign-in facts', () => {
  const inside = insideNetworks(DEFAULT_CLINIC_NETWORKS);

  test('the clinic’s own networks: private ranges and loopback inside, IPv4 written as IPv6 too; public addresses outside', () => {
    for (const a of ['10.1.2.3', '192.168.0.20', '172.20.1.1', '127.0.0.1', '::1', '::ffff:10.0.0.7', 'fd00::5']) assert.equal(inside(a), true, a);
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:8.8.8.8', 'not-an-address']) assert.equal(inside(a), false, a);
    const custom = insideNetworks(['203.0.113.0/24']);
    assert.equal(custom('203.0.113.9'), true);
    assert.equal(custom('10.0.0.1'), false, 'a clinic that names its networks has only those');
  });

  test('remote sign-ins are counted per account; the most places signed in at once is a sweep over the sessions', () => {
    const facts = signInFacts(
      [
        span('ann', '10.0.0.5', 0, 60),
        span('ann', '198.51.100.7', 30, 90), // from home, overlapping her desk session: two places at once
        span('bob', '10.0.0.8', 0, 30),
        span('bob', '10.0.0.9', 30, 60), // one ends as the next begins: never two at once
        span('desk', '10.0.0.1', 0, 600),
        span('desk', '10.0.0.2', 10, 600),
        span('desk', '10.0.0.3', 20, 600),
        span('desk', '10.0.0.1', 30, 40), // a second session from an address already counted
      ],
      inside,
    );
    assert.deepEqual(facts.get('ann'), { remote: 1, mostAddressesAtOnce: 2 });
    assert.deepEqual(facts.get('bob'), { remote: 0, mostAddressesAtOnce: 1 });
    assert.deepEqual(facts.get('desk'), { remote: 0, mostAddressesAtOnce: 3 });
    assert.equal(facts.get('carol'), undefined);
  });
});

describe('the release feed', () => {
  let server: http.Server;
  let base = '';
  const answers: Record<string, [number, string]> = {
    '/plain': [200, JSON.stringify({ version: '1.6.0' })],
    '/npm': [200, JSON.stringify({ name: 'carewall', 'dist-tags': { latest: '2.1.3' } })],
    '/broken': [200, JSON.stringify({ version: '<script>' })],
    '/gone': [404, '{}'],
  };
  before(async () => {
    server = http.createServer((req, res) => {
      const [status, body] = answers[req.url ?? ''] ?? [500, ''];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('reads a plain version or an npm registry document, and refuses what names no version', async () => {
    assert.equal(await readReleaseFeed(`${base}/plain`), '1.6.0');
    assert.equal(await readReleaseFeed(`${base}/npm`), '2.1.3');
    await assert.rejects(readReleaseFeed(`${base}/broken`), /names no version/);
    await assert.rejects(readReleaseFeed(`${base}/gone`), /404/);
  });
});

describe('posture settings', () => {
  const settings = (posture: unknown) => ({ dataDir: '/tmp/x', posture }) as unknown as Settings;
  test('defaults for a small clinic behind NAT; every mistake named', () => {
    const d = postureSettings(settings(undefined));
    assert.equal(d.size, 'small');
    assert.equal(d.recoveryTimeObjectiveHours, 24);
    assert.equal(d.keyRotationDays, 365);
    assert.equal(d.releaseFeed, undefined);
    assert.deepEqual(d.clinicNetworks, DEFAULT_CLINIC_NETWORKS);
    assert.throws(() => postureSettings(settings({ size: 'huge' })), /posture\.size/);
    assert.throws(() => postureSettings(settings({ clinicNetworks: ['10.0.0.0/33'] })), /posture\.clinicNetworks/);
    assert.throws(() => postureSettings(settings({ recoveryTimeObjectiveHours: -1 })), /recoveryTimeObjectiveHours/);
    assert.throws(() => postureSettings(settings({ releaseFeed: 'ftp://x' })), /releaseFeed/);
  });
});
