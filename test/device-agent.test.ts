/**
 * The device agent (issue 25) against a real server: it installs what the offline keys released for
 * its hardware, and refuses — exit code 3, nothing written into the install folder — a release for
 * other hardware, a lower release counter, a version it may not upgrade from, altered bytes. Its
 * signed manifest is kept by the server, which refuses one signed by another key or sent again,
 * and flags an image the repository never released and devices that never report.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runBinary, runCli } from './helpers/cli.js';
import { startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { Ceremony, imageBytes } from './helpers/updates.js';
import { agentPaths, runAgent, signManifest, type DeviceManifest } from '../src/device/index.js';

const FW1 = imageBytes('pump 1.1', 40_000);
const FW2 = imageBytes('pump 2.0', 2 * 1024 * 1024 + 5); // more than one stored chunk
const FW3 = imageBytes('pump 3.0', 1000);

describe('carewall device-agent', () => {
  let server: TestServer;
  let work: string;
  let c: Ceremony;
  let rootFile: string;
  const clock = { at: undefined as Date | undefined, now: () => clock.at ?? new Date() };

  before(async () => {
    server = await startTestServer({}, (cw) => (cw.updates.clock = clock));
    work = tempDir('carewall-device-agent-');
    c = new Ceremony(work, server.dataDir, { insideServer: server.cw });
    for (const h of ['root-a', 'root-b', 'root-c', 'targets', 'eng-1']) await c.keygen(h);
    const root = await c.propose(
      ['updates', 'init-root', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-c.key.pub', '--targets-key', 'targets.key.pub'],
      'root-1.json',
    );
    await c.approve(root, ['root-a', 'root-b']);
    rootFile = path.join(work, 'root.json');
    fs.writeFileSync(rootFile, await c.root());
    await c.approve(await c.propose(['updates', 'delegate', '--class', 'pump', '--engineer-key', 'eng-1.key.pub'], 'targets-1.json'), ['targets']);
    await release('fw-1.1.img', FW1, 1, '1.0', '1.1');
    await release('fw-2.0.img', FW2, 2, '1.0', '2.0');
  });
  after(async () => {
    await server?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function release(name: string, bytes: Buffer, counter: number, minUpgradeFrom: string, version: string) {
    const file = c.writeImage(name, bytes);
    const args = ['updates', 'stage', '--without-vendor-signature', '--class', 'pump', '--file', file, '--name', name, '--hardware-id', 'HW-A', 'HW-A2'];
    args.push('--release-counter', String(counter), '--min-upgrade-from', minUpgradeFrom, '--image-version', version);
    assert.match(await c.approve(await c.propose(args, `pump-${counter}.json`), ['eng-1']), /published/);
  }

  /** A provisioned device (key, config, install folder), registered unless told otherwise. */
  async function newDevice(id: string, hardwareId = 'HW-A', register = true) {
    await c.run(['device', 'init', '--device-key', `${id}.key`, '--class', 'pump', '--hardware-id', hardwareId, '--image-version', '1.0']);
    if (register) await c.data(['updates', 'device', 'add', '--id', id, '--public-key', `${id}.key.pub`, '--hardware-id', hardwareId, '--class', 'pump']);
    const installDir = path.join(work, `${id}-install`);
    fs.mkdirSync(installDir);
    const args = ['--server', server.url, '--root', rootFile, '--device-key', path.join(work, `${id}.key`), '--device-id', id, '--install-dir', installDir];
    return {
      id,
      installDir,
      args: ['device-agent', ...args, '--once', '--json'],
      options: { server: server.url, rootFile, deviceKeyFile: path.join(work, `${id}.key`), deviceId: id, installDir },
      /** The install folder: names and bytes. */
      contents: () => Object.fromEntries(fs.readdirSync(installDir).map((f) => [f, fs.readFileSync(path.join(installDir, f))])),
    };
  }

  async function agent(d: { args: string[] }, expectCode: number) {
    const r = await runCli(d.args, { cwd: work });
    assert.equal(r.code, expectCode, r.stdout + r.stderr);
    return JSON.parse(r.stdout);
  }

  const devices = async () => JSON.parse((await c.data(['updates', 'device', 'list', '--json'])).stdout).devices as Array<Record<string, any>>;

  test('the real binary installs the newest release for its hardware, reports it; the next run is up to date', async () => {
    const d = await newDevice('pump-7');
    assert.deepEqual((await devices()).find((x) => x.id === 'pump-7')?.flags, ['never-reported']);
    const r = await runBinary(d.args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { installed: 'pump.fw-2.0.img', version: '2.0', releaseCounter: 2, reported: true });
    assert.deepEqual(d.contents(), { 'pump.fw-2.0.img': FW2 });
    // The agent's state is beside the install folder, not in it.
    assert.ok(fs.existsSync(agentPaths(d.installDir).installed));
    const listed = (await devices()).find((x) => x.id === 'pump-7')!;
    assert.equal(listed.lastReport.target, 'pump.fw-2.0.img');
    assert.equal(listed.lastReport.sha256, crypto.createHash('sha256').update(FW2).digest('hex'));
    assert.deepEqual(listed.flags, []);
    assert.deepEqual(await agent(d, 0), { upToDate: true, reported: true });
    assert.deepEqual(d.contents(), { 'pump.fw-2.0.img': FW2 });
  });

  test('hardware the release is not for: refused, exit code 3, install folder untouched', async () => {
    const d = await newDevice('pump-z', 'HW-Z');
    assert.match((await agent(d, 3)).refused, /no release of class pump is for hardware HW-Z/);
    // A chooser (as the director will be) naming the image anyway: the agent's own check refuses it.
    const forced = await runAgent({ ...d.options, choose: () => 'pump.fw-2.0.img' });
    assert.match((forced as { refused: string }).refused, /pump.fw-2.0.img is not for hardware HW-Z/);
    assert.deepEqual(d.contents(), {});
  });

  test('a lower release counter is refused (rollback); the same chooser installs it on a fresh device', async () => {
    const d = await newDevice('pump-r');
    assert.equal((await agent(d, 0)).installed, 'pump.fw-2.0.img');
    const older = () => 'pump.fw-1.1.img';
    assert.match(
      ((await runAgent({ ...d.options, choose: older })) as { refused: string }).refused,
      /rollback: .* release counter 1, not above the installed 2/,
    );
    assert.deepEqual(d.contents(), { 'pump.fw-2.0.img': FW2 });
    // Not registered: the install stands, the failed report is said (exit code 0, `reported: false`).
    const fresh = await newDevice('pump-fresh', 'HW-A2', false);
    const r = await runAgent({ ...fresh.options, choose: older });
    assert.deepEqual(
      { ...r, reportError: undefined },
      { installed: 'pump.fw-1.1.img', version: '1.1', releaseCounter: 1, reported: false, reportError: undefined },
    );
    assert.match((r as { reportError: string }).reportError, /403/);
    assert.deepEqual(fresh.contents(), { 'pump.fw-1.1.img': FW1 });
  });

  test('an altered image is refused and nothing is written into the install folder', async () => {
    const d = await newDevice('pump-t');
    const sha = crypto.createHash('sha256').update(FW2).digest('hex');
    const chunk = await server.cw.db.query<{ bytes: Buffer }>('select bytes from updates_blob_chunk where sha256 = $1 and n = 1', [sha]);
    const original = Buffer.from(chunk.rows[0].bytes);
    const altered = Buffer.from(original);
    altered[7] ^= 0x01;
    await server.cw.db.query('update updates_blob_chunk set bytes = $1 where sha256 = $2 and n = 1', [altered, sha]);
    try {
      assert.match((await agent(d, 3)).refused, /pump.fw-2.0.img did not verify/);
      assert.deepEqual(d.contents(), {});
      assert.deepEqual(fs.readdirSync(agentPaths(d.installDir).staging), [], 'no staged bytes are left behind');
      assert.ok(!fs.existsSync(agentPaths(d.installDir).installed), 'nothing recorded as installed');
    } finally {
      await server.cw.db.query('update updates_blob_chunk set bytes = $1 where sha256 = $2 and n = 1', [original, sha]);
    }
    assert.equal((await agent(d, 0)).installed, 'pump.fw-2.0.img', 'the genuine bytes install');
  });

  test('the server keeps a manifest signed by the device only: another key, an unknown device, a replay are refused', async () => {
    const d = await newDevice('pump-m');
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(work, 'pump-m.key')));
    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    const manifest = (over: Partial<DeviceManifest> = {}): DeviceManifest => ({
      deviceId: d.id,
      target: 'pump.fw-2.0.img',
      sha256: crypto.createHash('sha256').update(FW2).digest('hex'),
      version: '2.0',
      releaseCounter: 2,
      time: '2030-01-01T00:00:00.000Z',
      ...over,
    });
    const post = (id: string, body: unknown) =>
      fetch(`${server.url}/updates/devices/${id}/manifest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const stored = async () => Number((await server.cw.db.query<{ n: string }>('select count(*) n from updates_device_manifest')).rows[0].n);
    const before = await stored();
    assert.equal((await post(d.id, signManifest(manifest(), other))).status, 403);
    assert.equal((await post('pump-nobody', signManifest(manifest({ deviceId: 'pump-nobody' }), key))).status, 403);
    const signed = signManifest(manifest(), key);
    assert.equal((await post(d.id, { ...signed, manifest: signed.manifest.replace('2.0"', '9.0"') })).status, 403, 'altered after signing');
    assert.equal((await post(d.id, { manifest: signed.manifest })).status, 400);
    assert.equal((await post(d.id, { ...signed, padding: 'x'.repeat(100 * 1024) })).status, 413, 'a stranger’s body stays small');
    assert.equal(await stored(), before, 'nothing refused is kept');
    assert.equal((await post(d.id, signed)).status, 201);
    assert.equal((await post(d.id, signed)).status, 409, 'the same manifest again');
    // Signed by the device, but naming an image the repository never released: kept, and flagged.
    const unknown = signManifest(manifest({ target: 'pump.fw-9.img', time: '2030-01-02T00:00:00.000Z' }), key);
    const res = await post(d.id, unknown);
    assert.deepEqual([res.status, await res.json()], [201, { accepted: true, knownImage: false }]);
    assert.deepEqual((await devices()).find((x) => x.id === d.id)?.flags, ['unknown-image']);
    assert.equal(await stored(), before + 2);
    await assert.rejects(server.cw.db.query("update updates_device_manifest set target = 'pump.fw-2.0.img' where device_id = $1", [d.id]), /written once/);
  });

  test('registration refuses a second key for a registered id; a device silent for over a week is flagged', async () => {
    const again = ['updates', 'device', 'add', '--id', 'pump-7', '--public-key', 'pump-m.key.pub', '--hardware-id', 'HW-A', '--class', 'pump'];
    assert.match((await c.data(again, 1)).stderr, /registered already/);
    clock.at = new Date(Date.now() + 8 * 24 * 60 * 60 * 1000);
    try {
      assert.ok((await devices()).find((x) => x.id === 'pump-7')!.flags.includes('silent'));
    } finally {
      clock.at = undefined;
    }
  });

  test('a release a device may not upgrade to from its version is refused (min-upgrade-from)', async () => {
    await release('fw-3.0.img', FW3, 3, '2.5', '3.0');
    const d = await newDevice('pump-old'); // runs 1.0
    assert.match((await agent(d, 3)).refused, /needs version 2.5 or later installed first; this device runs 1.0/);
    assert.deepEqual(d.contents(), {});
  });
});
