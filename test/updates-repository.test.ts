/**
 * The equipment update repository is a TUF 1.0 repository (issue 25): an unmodified tuf-js device
 * provisioned with `carewall updates root` installs what the offline keys released, and each attack
 * on the way fails at the device: changed bytes, a stolen online key, too few or the wrong
 * engineers, a frozen or rolled-back repository, a revoked root key, endless data. The ceremonies run
 * through the CLI, as the key holders would; the attacks write to the database directly (an attacker
 * who owns the server) or stand between server and device (a mirror).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Metadata, MetadataKind } from '@tufjs/models';
import { startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { Ceremony, device, imageBytes } from './helpers/updates.js';
import { readPrivateKeyFile, signProposal } from '../src/updates/index.js';
import { signerFor } from '../src/updates/keys.js';

const DAY = 24 * 60 * 60 * 1000;
const VENT_1 = 'ventilator.fw-1.0.img';

describe('the update repository, as tuf-js devices see it', () => {
  let server: TestServer;
  let work: string;
  let c: Ceremony;
  let root1: string;
  const vent1 = imageBytes('ventilator 1.0', 3 * 1024 * 1024 + 17); // several chunks
  // The server's clock; each test that moves it puts it back.
  const clock = { at: undefined as Date | undefined, now: () => clock.at ?? new Date() };
  const devices: Array<{ cleanup(): void }> = [];
  const newDevice = (root = root1, targetBase?: string) => {
    const d = device(root, server.url, targetBase);
    devices.push(d);
    return d;
  };

  before(async () => {
    server = await startTestServer({}, (cw) => (cw.updates.clock = clock));
    work = tempDir('carewall-updates-');
    c = new Ceremony(work, server.dataDir, { insideServer: server.cw });
    for (const h of ['root-a', 'root-b', 'root-c', 'root-d', 'targets', 'eng-1', 'eng-2', 'eng-3']) await c.keygen(h);
    // Root: 2 of 3 offline keys; the server's online snapshot and timestamp keys are made now.
    const rootFile = await c.propose(
      ['updates', 'init-root', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-c.key.pub', '--targets-key', 'targets.key.pub'],
      'root-1.json',
    );
    assert.match(await c.approve(rootFile, ['root-a']), /not yet enough/);
    assert.match(await c.approve(rootFile, ['root-b']), /root version 1 published/);
    root1 = await c.root();
    // Ventilators are life-critical: two of their engineers; thermometers: one other engineer.
    const vent = await c.propose(
      ['updates', 'delegate', '--class', 'ventilator', '--engineer-key', 'eng-1.key.pub', 'eng-2.key.pub', '--life-critical'],
      'targets-1.json',
    );
    assert.match(await c.approve(vent, ['targets']), /targets version 1 published/);
    const thermo = await c.propose(['updates', 'delegate', '--class', 'thermometer', '--engineer-key', 'eng-3.key.pub'], 'targets-2.json');
    assert.match(await c.approve(thermo, ['targets']), /targets version 2 published/);
    const release = await c.propose(stageArgs('ventilator', c.writeImage('vent-1.img', vent1), 'fw-1.0.img', 1), 'ventilator-1.json');
    assert.match(await c.approve(release, ['eng-1', 'eng-2']), /ventilator version 1 published/);
  });
  after(async () => {
    devices.forEach((d) => d.cleanup());
    await server?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const stageArgs = (cls: string, file: string, name: string, counter: number) => [
    'updates',
    'stage',
    '--without-vendor-signature',
    '--class',
    cls,
    '--file',
    file,
    '--name',
    name,
    '--hardware-id',
    'HW-REV-B',
    '--release-counter',
    String(counter),
    '--min-upgrade-from',
    '0.9',
  ];

  /** The attacker with the server in hand: metadata written straight into the store, then a new
   * snapshot and timestamp signed by the server's own online keys. Returns the undo. */
  async function forge(role: string, signed: object, keys: Buffer[]) {
    const before = await server.cw.db.query<{ role: string; v: number }>('select role, max(version) v from updates_metadata group by role');
    const json = { signed, signatures: [] } as never;
    const forged = role === 'root' ? Metadata.fromJSON(MetadataKind.Root, json) : Metadata.fromJSON(MetadataKind.Targets, json);
    for (const k of keys) forged.sign(signerFor(k));
    const version = (signed as { version: number }).version;
    await server.cw.db.query('insert into updates_metadata (role, version, body, expires_at) values ($1, $2, $3, $4)', [
      role,
      version,
      Buffer.from(JSON.stringify(forged.toJSON())),
      (signed as { expires: string }).expires,
    ]);
    await server.cw.updates.refresh(true);
    return async () => {
      for (const r of before.rows) await server.cw.db.query('delete from updates_metadata where role = $1 and version > $2', [r.role, r.v]);
      await server.cw.db.query('delete from updates_metadata where role = $1 and version = $2', [role, version]);
      await server.cw.updates.refresh(true);
    };
  }

  const held = (holder: string) => readPrivateKeyFile(path.join(work, `${holder}.key`));
  const signedOf = (file: string) => JSON.parse(fs.readFileSync(path.join(work, file), 'utf8')).signed;

  /** The signed part of a role's newest published metadata. */
  async function latestSigned(role: string): Promise<Record<string, any>> {
    const r = await server.cw.db.query<{ body: Buffer }>('select body from updates_metadata where role = $1 order by version desc limit 1', [role]);
    return JSON.parse(r.rows[0].body.toString()).signed;
  }

  test('an unmodified tuf-js device, trusting `updates root`, installs the released image with its custom fields', async () => {
    const d = newDevice();
    assert.deepEqual(await d.fetch(VENT_1), vent1);
    const info = await d.updater.getTargetInfo(VENT_1);
    assert.deepEqual(info?.custom, { hardwareIds: ['HW-REV-B'], releaseCounter: 1, minUpgradeFrom: '0.9' });
    // The root it trusts is the one signed by the ceremony: 2 of the 3 root keys, consistent snapshots.
    const root = JSON.parse(root1);
    assert.equal(root.signed.roles.root.threshold, 2);
    assert.equal(root.signed.consistent_snapshot, true);
    assert.deepEqual(root.signatures.map((s: { keyid: string }) => s.keyid).sort(), [c.keyIds.get('root-a'), c.keyIds.get('root-b')].sort());
  });

  test('no login is needed to read it, and nothing unreleased is served', async () => {
    assert.equal((await fetch(`${server.url}/updates/metadata/1.root.json`)).status, 200);
    assert.equal((await fetch(`${server.url}/updates/metadata/2.root.json`)).status, 404);
    const staged = await c.propose(stageArgs('ventilator', c.writeImage('unreleased.img', imageBytes('unreleased', 999)), 'fw-9.img', 9), 'unreleased.json');
    const sha = signedOf(staged).targets['ventilator.fw-9.img'].hashes.sha256;
    assert.equal((await fetch(`${server.url}/updates/targets/${sha}.ventilator.fw-9.img`)).status, 404);
    await c.data(['updates', 'withdraw', '--id', c.ids.get(staged)!]);
  });

  test('an altered image byte is refused by the device', async () => {
    const sha = (await latestSigned('ventilator')).targets[VENT_1].hashes.sha256;
    const flip = `update updates_blob_chunk set bytes = set_byte(bytes, 1000, 255 - get_byte(bytes, 1000)) where sha256 = $1 and n = 1`;
    await server.cw.db.query(flip, [sha]);
    try {
      await assert.rejects(newDevice().fetch(VENT_1), /LengthOrHashMismatch|hash/i);
    } finally {
      await server.cw.db.query(flip, [sha]); // flipped back
    }
    assert.deepEqual(await newDevice().fetch(VENT_1), vent1);
  });

  test('a stolen online (snapshot and timestamp) key alone cannot add a target', async () => {
    const sealed = await server.cw.db.query<{ keyid: string; sealed_private: Buffer }>(
      "select keyid, sealed_private from updates_online_key where role = 'snapshot'",
    );
    const onlineKey = server.cw.keyring.openGeneral(Buffer.from(sealed.rows[0].sealed_private), `updates:online:${sealed.rows[0].keyid}`);
    // The server takes no online-key signature on a release...
    const staged = await c.propose(stageArgs('ventilator', c.writeImage('evil.img', imageBytes('evil', 5000)), 'evil.img', 50), 'evil.json');
    const { signature } = signProposal(fs.readFileSync(path.join(work, staged), 'utf8'), staged, onlineKey);
    fs.writeFileSync(path.join(work, 'online.sig.json'), JSON.stringify(signature));
    const refused = await c.data(['updates', 'add-signature', '--in', 'online.sig.json'], 1);
    assert.match(refused.stderr, /not one of the keys that may sign ventilator/);
    await c.data(['updates', 'withdraw', '--id', c.ids.get(staged)!]);
    // ...and metadata forced into the store, snapshot and timestamp signed by the online keys, is refused by the device.
    const undo = await forge('ventilator', signedOf(staged), [onlineKey]);
    try {
      const d = newDevice();
      await d.updater.refresh(); // the snapshot and timestamp are genuine online signatures
      await assert.rejects(d.updater.getTargetInfo('ventilator.evil.img'), /ventilator was signed by 0\/2 keys/);
    } finally {
      await undo();
    }
  });

  test('a life-critical release with fewer engineer signatures than 2 is never published, and forced in, is refused', async () => {
    const staged = await c.propose(stageArgs('ventilator', c.writeImage('vent-2.img', imageBytes('ventilator 2.0', 70_000)), 'fw-2.0.img', 2), 'vent-2.json');
    assert.match(await c.approve(staged, ['eng-1']), /signed by 1 key\(s\) so far, not yet enough/);
    const before = newDevice();
    await before.updater.refresh();
    assert.equal(await before.updater.getTargetInfo('ventilator.fw-2.0.img'), undefined, 'not published');
    const undo = await forge('ventilator', signedOf(staged), [held('eng-1')]);
    try {
      const d = newDevice();
      await d.updater.refresh();
      await assert.rejects(d.updater.getTargetInfo('ventilator.fw-2.0.img'), /ventilator was signed by 1\/2 keys/);
    } finally {
      await undo();
    }
    // The second engineer's signature is what was missing.
    assert.match(await c.approve(staged, ['eng-2']), /ventilator version 2 published/);
    assert.deepEqual(await newDevice().fetch('ventilator.fw-2.0.img'), imageBytes('ventilator 2.0', 70_000));
  });

  test('an engineer of another class cannot sign for this class', async () => {
    const staged = await c.propose(stageArgs('ventilator', c.writeImage('vent-3.img', imageBytes('ventilator 3.0', 4096)), 'fw-3.0.img', 3), 'vent-3.json');
    const wrong = await c.sign('eng-3', staged);
    assert.match((await c.data(['updates', 'add-signature', '--in', wrong], 1)).stderr, /not one of the keys that may sign ventilator/);
    await c.approve(staged, ['eng-1']);
    // Forced in with the thermometer engineer as the second signer: still one ventilator key.
    const signed = signedOf(staged);
    let undo = await forge('ventilator', signed, [held('eng-1'), held('eng-3')]);
    try {
      const d = newDevice();
      await d.updater.refresh();
      await assert.rejects(d.updater.getTargetInfo('ventilator.fw-3.0.img'), /ventilator was signed by 1\/2 keys/);
    } finally {
      await undo();
    }
    // Nor can the thermometer engineer list a ventilator image in the thermometer role, validly signed.
    const thermo = {
      _type: 'targets',
      spec_version: '1.0.31',
      version: 1,
      expires: signed.expires,
      targets: { 'ventilator.fw-3.0.img': signed.targets['ventilator.fw-3.0.img'] },
    };
    undo = await forge('thermometer', thermo, [held('eng-3')]);
    try {
      const d = newDevice();
      await d.updater.refresh();
      assert.equal(await d.updater.getTargetInfo('ventilator.fw-3.0.img'), undefined);
    } finally {
      await undo();
    }
    await c.data(['updates', 'withdraw', '--id', c.ids.get(staged)!]);
  });

  test('freeze: a timestamp past its expiry is refused; the server signs a fresh one when its clock says so', async () => {
    clock.at = new Date(Date.now() - 2 * DAY);
    try {
      await server.cw.updates.refresh(true); // a timestamp that expired a day ago, as a frozen mirror would serve
      await assert.rejects(newDevice().updater.refresh(), /timestamp.json is expired/);
    } finally {
      clock.at = undefined;
    }
    assert.equal(await server.cw.updates.refresh(), true, 'the stale timestamp is replaced without being forced');
    assert.deepEqual(await newDevice().fetch(VENT_1), vent1);
  });

  test('rollback: an older timestamp than the device has seen is refused', async () => {
    const d = newDevice();
    await server.cw.updates.refresh(true);
    await d.updater.refresh();
    const newest = await server.cw.db.query<{ v: number }>("select max(version) v from updates_metadata where role = 'timestamp'");
    const body = await server.cw.db.query<{ body: Buffer; expires_at: Date }>(
      "select body, expires_at from updates_metadata where role = 'timestamp' and version = $1",
      [newest.rows[0].v],
    );
    await server.cw.db.query("delete from updates_metadata where role = 'timestamp' and version = $1", [newest.rows[0].v]);
    d.reboot();
    try {
      await assert.rejects(d.updater.refresh(), /New timestamp version \d+ is less than current version/);
    } finally {
      await server.cw.db.query("insert into updates_metadata (role, version, body, expires_at) values ('timestamp', $1, $2, $3)", [
        newest.rows[0].v,
        body.rows[0].body,
        body.rows[0].expires_at,
      ]);
    }
    d.reboot();
    await d.updater.refresh();
  });

  test('endless data: a target longer than its recorded length is cut off and refused', async () => {
    const proxy = (extra: number) =>
      http.createServer(async (req, res) => {
        const upstream = await fetch(`${server.url}/updates/targets${req.url}`);
        const bytes = Buffer.from(await upstream.arrayBuffer());
        res.writeHead(upstream.status); // chunked: no length to hold the device to
        res.write(bytes);
        res.end(Buffer.alloc(extra, 7));
      });
    for (const extra of [0, 2 * 1024 * 1024]) {
      const mirror = proxy(extra);
      await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r));
      const { port } = mirror.address() as { port: number };
      try {
        const d = newDevice(root1, `http://127.0.0.1:${port}`);
        if (extra === 0) assert.deepEqual(await d.fetch(VENT_1), vent1, 'the mirror itself works');
        else await assert.rejects(d.fetch(VENT_1), /Max length reached/);
      } finally {
        await new Promise((r) => mirror.close(r));
      }
    }
  });

  test('root rotation: a device follows it, and the revoked key no longer counts', async () => {
    // Root 2 revokes root-c and adds root-d: signed by 2 of the old keys and 2 of the new.
    const args = ['updates', 'rotate-root', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-d.key.pub', '--targets-key', 'targets.key.pub'];
    const r2 = await c.propose(args, 'root-2.json');
    assert.match(await c.approve(r2, ['root-a', 'root-d']), /not yet enough/, 'root-d is not an old key: one old signature so far');
    assert.match(await c.approve(r2, ['root-b']), /root version 2 published/);
    assert.deepEqual(await newDevice(root1).fetch(VENT_1), vent1, 'provisioned with root 1, the device trusts root 2');
    // Root 3, signed by root-a and the revoked root-c: the server takes no signature of root-c...
    const r3 = await c.propose(args, 'root-3.json');
    const revoked = await c.sign('root-c', r3);
    assert.match((await c.data(['updates', 'add-signature', '--in', revoked], 1)).stderr, /not one of the keys that may sign root/);
    // ...and forced into the store, the device refuses it.
    const undo = await forge('root', signedOf(r3), [held('root-a'), held('root-c')]);
    try {
      await assert.rejects(newDevice(root1).updater.refresh(), /root was signed by 1\/2 keys/);
    } finally {
      await undo();
    }
    assert.match(await c.approve(r3, ['root-a', 'root-d']), /root version 3 published/);
    assert.deepEqual(await newDevice(root1).fetch(VENT_1), vent1);
  });

  test('online keys replaced after a theft: what the stolen timestamp key signs is refused, and the server no longer holds it', async () => {
    const stolen = await server.cw.db.query<{ keyid: string; sealed_private: Buffer }>(
      "select keyid, sealed_private from updates_online_key where role = 'timestamp'",
    );
    const stolenKey = server.cw.keyring.openGeneral(Buffer.from(stolen.rows[0].sealed_private), `updates:online:${stolen.rows[0].keyid}`);
    const root3Snapshot = (await latestSigned('root')).roles.snapshot.keyids[0];
    const follower = newDevice(root1);
    assert.deepEqual(await follower.fetch(VENT_1), vent1, 'a device that saw the old online signatures');
    const args = ['updates', 'rotate-root', '--new-online-keys', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-d.key.pub'];
    const r4 = await c.propose([...args, '--targets-key', 'targets.key.pub'], 'root-4.json');
    assert.match(await c.approve(r4, ['root-a', 'root-d']), /root version 4 published/);
    const root4 = await latestSigned('root');
    assert.notEqual(root4.roles.timestamp.keyids[0], stolen.rows[0].keyid);
    assert.ok(
      !stolen.rows.some((r) => r.keyid === root4.roles.snapshot.keyids[0]) && root4.roles.snapshot.keyids[0] !== root3Snapshot,
      'a new snapshot key too',
    );
    const kept = await server.cw.db.query<{ keyid: string }>('select keyid from updates_online_key order by keyid');
    assert.deepEqual(
      kept.rows.map((r) => r.keyid).sort(),
      [root4.roles.snapshot.keyids[0], root4.roles.timestamp.keyids[0]].sort(),
      'the replaced keys are destroyed',
    );
    // Both the device that saw the old online signatures (its next run) and a new one follow the rotation.
    follower.reboot();
    assert.deepEqual(await follower.fetch(VENT_1), vent1);
    assert.deepEqual(await newDevice(root1).fetch(VENT_1), vent1);
    // The thief signs a newer timestamp with the stolen key and gets it served: refused.
    const current = await latestSigned('timestamp');
    const forged = Metadata.fromJSON(MetadataKind.Timestamp, { signed: { ...current, version: current.version + 1 }, signatures: [] } as never);
    forged.sign(signerFor(stolenKey));
    await server.cw.db.query('insert into updates_metadata (role, version, body, expires_at) values ($1, $2, $3, $4)', [
      'timestamp',
      current.version + 1,
      Buffer.from(JSON.stringify(forged.toJSON())),
      current.expires,
    ]);
    try {
      follower.reboot();
      await assert.rejects(follower.updater.refresh(), /timestamp was signed by 0\/1 keys/);
      await assert.rejects(newDevice(root1).updater.refresh(), /timestamp was signed by 0\/1 keys/);
    } finally {
      await server.cw.db.query("delete from updates_metadata where role = 'timestamp' and version = $1", [current.version + 1]);
    }
  });
});
