/**
 * The director (issue 25, Uptane's director): rollouts in waves with a canary and a halt switch,
 * instructions limited to each device's maintenance window, and the device agent's full
 * verification. Each attack of the Uptane threat model on this part fails at the device: a
 * compromised director alone (an image the repository lacks, another hash, another release
 * counter), a release the director did not assign, director metadata of another device or an older
 * version (mix-and-match, rollback), frozen director metadata, outside the window, the wrong
 * hardware; and the people who may not roll out are refused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeLeaf } from '../src/audit/index.js';
import { runAgent, type AgentResult } from '../src/device/index.js';
import { Metadata, MetadataKind } from '@tufjs/models';
import { signerFor } from '../src/updates/keys.js';
import type { MaintenanceWindow, Who } from '../src/shared/index.js';
import { call, startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { Ceremony, imageBytes } from './helpers/updates.js';

/**
 * The test's day: tomorrow by the real clock. The devices' TUF client (tuf-js) checks expiry against
 * the real time, which no test clock reaches, so the windows the director signs for must lie ahead
 * of it (a fixed date here failed once the real clock passed its window's end).
 */
const DAY = new Date(Date.now() + 24 * 3600_000).toISOString().slice(0, 10);
const at = (time: string) => new Date(`${DAY}T${time}Z`);
const T0 = at('02:30:00'); // inside the 02:00–04:00 window
const NIGHTLY: MaintenanceWindow = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '02:00', end: '04:00', timeZone: 'UTC' };
const FW2 = imageBytes('pump 2', 30_000);
const FW3 = imageBytes('pump 3', 20_000);
const FW4 = imageBytes('pump 4', 10_000);

describe('the director: waves, windows and full verification', () => {
  let s: TestServer;
  let work: string;
  let c: Ceremony;
  const clock = { at: T0, now: () => clock.at };
  const who: Record<string, Who> = {};
  const tokens: Record<string, string> = {};
  let tick = 0;
  /** The devices' own clocks: moving on a second per run (their manifests must be later each time). */
  const deviceNow = (base = clock.at) => new Date(base.getTime() + ++tick * 1000);

  const device = (id: string) => {
    const installDir = path.join(work, `${id}-install`);
    return {
      installDir,
      run: (now = deviceNow()): Promise<AgentResult> =>
        runAgent({
          server: s.url,
          rootFile: path.join(work, 'root.json'),
          deviceKeyFile: path.join(work, `${id}.key`),
          deviceId: id,
          installDir,
          now: () => now,
        }),
      contents: () => fs.readdirSync(installDir).sort(),
    };
  };
  const refused = (r: AgentResult) => {
    assert.ok('refused' in r, JSON.stringify(r));
    return r.refused;
  };
  const as = (u: string, method: string, url: string, body?: unknown) =>
    call(s.url, method, url, { token: tokens[u], body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });

  before(async () => {
    s = await startTestServer({}, (cw) => {
      cw.updates.clock = clock;
      cw.director.clock = clock;
      cw.director.windowsOf = async () => [NIGHTLY];
    });
    work = tempDir('carewall-director-');
    c = new Ceremony(work, s.dataDir, { insideServer: s.cw });
    for (const h of ['root-a', 'root-b', 'root-c', 'targets', 'alice', 'bob', 'dir-a', 'dir-b', 'dir-c']) await c.keygen(h);
    await c.approve(
      await c.propose(
        ['updates', 'init-root', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-c.key.pub', '--targets-key', 'targets.key.pub'],
        'root-1.json',
      ),
      ['root-a', 'root-b'],
    );
    fs.writeFileSync(path.join(work, 'root.json'), await c.root());
    // The director's root: its own offline holders, 2 of 3, with the same tools.
    const dr = await c.run(
      ['director', 'init-root', '--root-key', 'dir-a.key.pub', 'dir-b.key.pub', 'dir-c.key.pub', '--out', 'director-root-1.json', '--data-dir', s.dataDir],
      0,
      {
        insideServer: s.cw,
      },
    );
    assert.match(dr.stdout, /director root version 1 awaits signatures/);
    for (const h of ['dir-a', 'dir-b'])
      await c.run(['director', 'add-signature', '--in', await c.sign(h, 'director-root-1.json'), '--data-dir', s.dataDir], 0, { insideServer: s.cw });
    fs.writeFileSync(path.join(work, 'director-root.json'), (await c.run(['director', 'root', '--data-dir', s.dataDir], 0, { insideServer: s.cw })).stdout);

    // Alice releases for pumps; Bob for monitors; a nurse for nobody.
    tokens.admin = await s.login(['admin'], 'it-admin');
    tokens.nurse = await s.login(['nurse'], 'nurse-n');
    await s.login(['privacy-officer'], 'po-p');
    who.officer = (await s.cw.identity.describeAccount('po-p'))!.who;
    for (const e of ['alice', 'bob']) {
      tokens[e] = await s.login(['biomedical-engineer'], e);
      who[e] = (await s.cw.identity.describeAccount(e))!.who;
      await s.cw.releases.engineers.registerKey(who[e], fs.readFileSync(path.join(work, `${e}.key.pub`), 'utf8'));
    }
    who.admin = (await s.cw.identity.describeAccount('it-admin'))!.who;
    for (const [cls, e] of [
      ['pump', 'alice'],
      ['monitor', 'bob'],
    ]) {
      await s.cw.releases.engineers.addClass(who.admin, cls, false);
      await s.cw.releases.engineers.assign(who.admin, cls, e);
      fs.writeFileSync(path.join(work, `${cls}-delegation.json`), (await s.cw.releases.proposeDelegation(who.admin, cls)).unsigned);
      await c.approve(`${cls}-delegation.json`, ['targets']);
    }
    for (const [name, bytes, counter] of [
      ['fw-2.img', FW2, 2],
      ['fw-3.img', FW3, 3],
    ] as const)
      await release(name, bytes, counter);
    for (const [id, hw] of [
      ['pump-1', 'HW-A'],
      ['pump-2', 'HW-A'],
      ['pump-3', 'HW-A'],
      ['pump-4', 'HW-A'],
      ['pump-z', 'HW-Z'],
    ]) {
      await c.run([
        'device',
        'init',
        '--device-key',
        `${id}.key`,
        '--class',
        'pump',
        '--hardware-id',
        hw,
        '--image-version',
        '1.0',
        '--director-root',
        'director-root.json',
      ]);
      await c.data(['updates', 'device', 'add', '--id', id, '--public-key', `${id}.key.pub`, '--hardware-id', hw, '--class', 'pump']);
      fs.mkdirSync(path.join(work, `${id}-install`));
    }
  });
  after(async () => {
    await s?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function release(name: string, bytes: Buffer, counter: number) {
    const file = c.writeImage(name, bytes);
    const args = ['updates', 'stage', '--without-vendor-signature', '--class', 'pump', '--file', file, '--name', name, '--hardware-id', 'HW-A'];
    args.push('--release-counter', String(counter), '--min-upgrade-from', '1.0', '--image-version', `${counter}.0`);
    assert.match(await c.approve(await c.propose(args, `pump-${counter}.json`), ['alice']), /published/);
  }

  test('a canary first, then each wave once the one before runs the release', async () => {
    const made = await as('alice', 'POST', '/updates/rollouts', { target: 'pump.fw-2.img', canary: 'pump-1', waves: [1] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(
      made.body.waves.map((w: { devices: Array<{ id: string }> }) => w.devices.map((d) => d.id)),
      [['pump-1'], ['pump-2'], ['pump-3', 'pump-4']],
      'pump-z (HW-Z) is left out: the release is for HW-A only',
    );
  });

  test('waves: only open waves are told; the next opens when the one before has reported', async () => {
    const id = (await as('alice', 'GET', '/updates/rollouts')).body[0].id;
    assert.deepEqual(await device('pump-2').run(), { upToDate: true, reported: true });
    assert.deepEqual(await device('pump-1').run(), { installed: 'pump.fw-2.img', version: '2.0', releaseCounter: 2, reported: true });
    assert.deepEqual(device('pump-1').contents(), ['pump.fw-2.img']);
    const second = await as('alice', 'POST', `/updates/rollouts/${id}/advance`);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    // Wave 3 waits for pump-2, which has not installed yet.
    const early = await as('alice', 'POST', `/updates/rollouts/${id}/advance`);
    assert.equal(early.status, 409);
    assert.match(early.body.error, /pump-2/);
    assert.equal(((await device('pump-2').run()) as { installed: string }).installed, 'pump.fw-2.img');
    assert.equal(((await device('pump-3').run()) as { upToDate?: boolean }).upToDate, true);
    assert.equal((await as('alice', 'POST', `/updates/rollouts/${id}/advance`)).status, 200);
    assert.equal(((await device('pump-3').run()) as { installed: string }).installed, 'pump.fw-2.img');
    const records = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf));
    assert.deepEqual(
      records.filter((r) => r.resource?.id === id).map((r) => `${r.action} ${r.user?.username}`),
      ['rollout.create alice', 'rollout.advance alice', 'rollout.advance alice'],
    );
    assert.ok(records.some((r) => r.action === 'director.instruct' && r.resource?.id === 'pump-1'));
    // Each device's signed report is in the log too, and so is a refused one.
    assert.ok(records.some((r) => r.action === 'device.manifest' && r.outcome === 'success' && r.user?.username === 'device:pump-1'));
    const forged = await call(s.url, 'POST', '/updates/devices/pump-1/manifest', {
      body: { manifest: '{}', signature: 'AAAA' },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(forged.status, 403);
    const after = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf));
    assert.ok(after.some((r) => r.action === 'device.manifest' && r.outcome === 'denied' && r.user?.username === 'device:pump-1'));
  });

  test('who may not roll out: an engineer of another class, a nurse; refused and recorded', async () => {
    for (const u of ['bob', 'nurse', 'admin']) {
      const r = await as(u, 'POST', '/updates/rollouts', { target: 'pump.fw-3.img', canary: 'pump-1', waves: [] });
      assert.equal(r.status, 403, u);
    }
    const denied = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size))
      .map((l) => decodeLeaf(l.leaf))
      .filter((r) => r.action === 'rollout.create');
    assert.ok(denied.some((r) => r.outcome === 'denied' && r.user?.username === 'bob'));
    assert.equal((await as('nurse', 'GET', '/updates/rollouts')).status, 403);
  });

  test('the halt switch: no device is told while halted; resuming needs a reason, then it goes on', async () => {
    const made = await as('alice', 'POST', '/updates/rollouts', { target: 'pump.fw-3.img', canary: 'pump-1', waves: [] });
    const id = made.body.id;
    assert.equal((await as('alice', 'POST', `/updates/rollouts/${id}/halt`, { reason: 'no' })).status, 400);
    const halted = await as('alice', 'POST', `/updates/rollouts/${id}/halt`, { reason: 'occlusion alarms reported on the ward' });
    assert.equal(halted.body.state, 'halted');
    assert.deepEqual(await device('pump-1').run(), { upToDate: true, reported: true });
    assert.deepEqual(device('pump-1').contents(), ['pump.fw-2.img']);
    const notes = (await s.cw.notices.forReader(who.officer)).notifications;
    assert.ok(notes.some((n) => n.message.includes('pump.fw-3.img was halted by alice')));
    assert.equal(
      (await as('alice', 'POST', `/updates/rollouts/${id}/resume`, { reason: 'the alarms were a sensor batch, now replaced' })).body.state,
      'active',
    );
    assert.equal(((await device('pump-1').run()) as { installed: string }).installed, 'pump.fw-3.img');
  });

  test('outside the maintenance window: refused before it opens and after it closes, nothing installed', async () => {
    // The fw-3 rollout's second (and last) wave: pump-2, pump-3, pump-4.
    const id = (await as('alice', 'GET', '/updates/rollouts')).body[0].id;
    assert.equal((await as('alice', 'POST', `/updates/rollouts/${id}/advance`)).status, 200);
    const d = device('pump-2');
    assert.match(refused(await d.run(at('01:59:00'))), new RegExp(`outside the maintenance window: it opens at ${DAY}T02:00:00`));
    assert.match(refused(await d.run(at('04:00:00'))), new RegExp(`outside the maintenance window: it closed at ${DAY}T04:00:00Z`));
    assert.deepEqual(d.contents(), ['pump.fw-2.img']);
    assert.equal(((await d.run(at('03:59:00'))) as { installed: string }).installed, 'pump.fw-3.img');
  });

  test('a compromised director alone cannot install anything the engineers did not release', async () => {
    const d = device('pump-3');
    const honest = s.cw.director.instructionFor.bind(s.cw.director);
    const fw3 = (await s.cw.updates.releasedTarget('pump.fw-3.img'))!;
    const forge = async (target: typeof fw3, deviceId = 'pump-3') => {
      // The attacker signs with the director's own online key, through the director itself.
      s.cw.director.instructionFor = async (asked) =>
        asked === 'pump-3'
          ? { target: { ...target, custom: { ...target.custom, deviceId, notBefore: `${DAY}T02:00:00Z` } }, expires: `${DAY}T04:00:00Z` }
          : honest(asked);
      return d.run();
    };
    try {
      // An image the image repository lacks.
      assert.match(
        refused(await forge({ ...fw3, path: 'pump.implant.img', sha256: 'ab'.repeat(32) })),
        /pump.implant.img is not a verified target of the repository/,
      );
      // The released path with other bytes.
      assert.match(refused(await forge({ ...fw3, sha256: 'cd'.repeat(32) })), /disagree about pump.fw-3.img \(length or hash\)/);
      // The released image with another release counter (to defeat the rollback check).
      assert.match(refused(await forge({ ...fw3, custom: { ...fw3.custom, releaseCounter: 99 } })), /disagree about pump.fw-3.img \(releaseCounter\)/);
      // Another device's instruction served to this one (mix-and-match).
      assert.match(refused(await forge(fw3, 'pump-1')), /instruction is for another device/);
    } finally {
      s.cw.director.instructionFor = honest;
    }
    assert.deepEqual(d.contents(), ['pump.fw-2.img']);
    // The device told the server of each refusal: the rollout halted at the first, and said why.
    const rollout = (await as('alice', 'GET', '/updates/rollouts')).body[0];
    assert.equal(rollout.target, 'pump.fw-3.img');
    assert.equal(rollout.state, 'halted');
    const halt = rollout.events.find((e: { action: string; by: string }) => e.action === 'halted' && e.by === 'device:pump-3');
    assert.match(halt.reason, /^device pump-3 refused it: pump.implant.img is not a verified target/);
    const notes = (await s.cw.notices.forReader(who.officer)).notifications;
    assert.ok(notes.some((n) => n.message.startsWith('The rollout of pump.fw-3.img was halted: device pump-3 refused it')));
    const records = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf));
    assert.equal(records.filter((r) => r.action === 'device.refused-update' && r.user?.username === 'device:pump-3').length, 4);
    // While halted nobody else is told; an engineer resumes it, saying why.
    const resumed = await as('alice', 'POST', `/updates/rollouts/${rollout.id}/resume`, {
      reason: "the director's online key was replaced after the incident",
    });
    assert.equal(resumed.body.state, 'active');
  });

  test('a release the director did not assign is not installed, however well signed (a compromised image repository alone)', async () => {
    await release('fw-4.img', FW4, 4);
    // (pump-2's clock is past 03:59 since the window test)
    assert.deepEqual(await device('pump-2').run(at('03:59:30')), { upToDate: true, reported: true });
    assert.ok(!device('pump-2').contents().includes('pump.fw-4.img'));
    // Nor does a chooser handed to the agent: a device provisioned with a director takes no other word.
    const chosen = await runAgent({
      server: s.url,
      rootFile: path.join(work, 'root.json'),
      deviceKeyFile: path.join(work, 'pump-2.key'),
      deviceId: 'pump-2',
      installDir: device('pump-2').installDir,
      now: () => at('03:59:40'),
      choose: () => 'pump.fw-4.img',
    });
    assert.ok(!('installed' in chosen), JSON.stringify(chosen));
    assert.ok(!device('pump-2').contents().includes('pump.fw-4.img'));
  });

  test('the wrong hardware: a director told to send it is still refused by the device', async () => {
    const honest = s.cw.director.instructionFor.bind(s.cw.director);
    const fw3 = (await s.cw.updates.releasedTarget('pump.fw-3.img'))!;
    s.cw.director.instructionFor = async (asked) =>
      asked === 'pump-z'
        ? { target: { ...fw3, custom: { ...fw3.custom, deviceId: 'pump-z', notBefore: `${DAY}T02:00:00Z` } }, expires: `${DAY}T04:00:00Z` }
        : honest(asked);
    try {
      assert.match(refused(await device('pump-z').run()), /pump.fw-3.img is not for hardware HW-Z/);
    } finally {
      s.cw.director.instructionFor = honest;
    }
  });

  test('director metadata rolled back, or frozen past its expiry, is refused', async () => {
    // Rollback: a compromised server replays pump-1's older director timestamp.
    const versions = await s.cw.db.query<{ version: number; body: Buffer }>(
      `select version, body from director_device_metadata where device_id = 'pump-1' and role = 'timestamp' order by version`,
    );
    assert.ok(versions.rows.length >= 2);
    const older = Buffer.from(versions.rows[0].body);
    const honest = s.cw.director.file.bind(s.cw.director);
    s.cw.director.file = async (id, role, version) => (id === 'pump-1' && role === 'timestamp' ? older : honest(id, role, version));
    try {
      assert.match(refused(await device('pump-1').run()), /the director did not verify: .*less than current version/);
    } finally {
      s.cw.director.file = honest;
    }
    // Freeze: everything pump-4 is served was signed a month ago and has expired.
    clock.at = new Date(T0.getTime() - 30 * 24 * 3600_000);
    try {
      assert.match(refused(await device('pump-4').run(at('02:31:00'))), /the director did not verify: .*expired/);
    } finally {
      clock.at = T0;
    }
    assert.deepEqual(device('pump-4').contents(), []);
    // Both devices reported what they refused: the first report halted the rollout.
    const rollout = (await as('alice', 'GET', '/updates/rollouts')).body[0];
    assert.equal(rollout.state, 'halted');
    assert.match(rollout.events.at(-1).reason, /^device pump-1 refused it: the director did not verify/);
    assert.equal(
      (await as('alice', 'POST', `/updates/rollouts/${rollout.id}/resume`, { reason: 'the replayed and stale metadata were traced and removed' })).body.state,
      'active',
    );
  });

  test("the director's root rotates (old and new holders sign); devices follow; a key left out no longer counts", async () => {
    await c.keygen('dir-d');
    const dd = { insideServer: s.cw };
    await c.run(
      ['director', 'init-root', '--root-key', 'dir-b.key.pub', 'dir-c.key.pub', 'dir-d.key.pub', '--out', 'director-root-2.json', '--data-dir', s.dataDir],
      0,
      dd,
    );
    // dir-b and dir-c are old keys and new ones: their two signatures are a threshold of both.
    assert.match(
      (await c.run(['director', 'add-signature', '--in', await c.sign('dir-b', 'director-root-2.json'), '--data-dir', s.dataDir], 0, dd)).stdout,
      /not yet enough/,
    );
    assert.match(
      (await c.run(['director', 'add-signature', '--in', await c.sign('dir-c', 'director-root-2.json'), '--data-dir', s.dataDir], 0, dd)).stdout,
      /version 2 published/,
    );
    // pump-3 was provisioned with version 1: it walks to version 2 and installs what it is told.
    assert.equal(((await device('pump-3').run()) as { installed: string }).installed, 'pump.fw-3.img');
    // dir-a was left out: its signature on a next root is refused.
    await c.run(
      ['director', 'init-root', '--root-key', 'dir-b.key.pub', 'dir-c.key.pub', 'dir-d.key.pub', '--out', 'director-root-3.json', '--data-dir', s.dataDir],
      0,
      dd,
    );
    const revoked = await c.run(['director', 'add-signature', '--in', await c.sign('dir-a', 'director-root-3.json'), '--data-dir', s.dataDir], 1, dd);
    assert.match(revoked.stderr, /is not a root key of the director/);
    await c.run(['director', 'withdraw-root', '--data-dir', s.dataDir], 0, dd);
  });

  test("the director's online key replaced after a theft: devices follow, and what the stolen key signs is refused", async () => {
    const dd = { insideServer: s.cw };
    const stolenRow = (await s.cw.db.query<{ keyid: string; sealed_private: Buffer }>('select keyid, sealed_private from director_online_key')).rows;
    assert.equal(stolenRow.length, 1);
    const stolen = s.cw.keyring.openGeneral(Buffer.from(stolenRow[0].sealed_private), `director:online:${stolenRow[0].keyid}`);
    const args = ['director', 'init-root', '--new-online-key', '--root-key', 'dir-b.key.pub', 'dir-c.key.pub', 'dir-d.key.pub'];
    await c.run([...args, '--out', 'director-root-4.json', '--data-dir', s.dataDir], 0, dd);
    for (const h of ['dir-b', 'dir-c'])
      await c.run(['director', 'add-signature', '--in', await c.sign(h, 'director-root-4.json'), '--data-dir', s.dataDir], 0, dd);
    const kept = (await s.cw.db.query<{ keyid: string }>('select keyid from director_online_key')).rows.map((r) => r.keyid);
    assert.equal(kept.length, 1);
    assert.notEqual(kept[0], stolenRow[0].keyid, 'the replaced key is destroyed');
    // pump-1 follows the new root; its files are signed again with the new key.
    assert.deepEqual(await device('pump-1').run(), { upToDate: true, reported: true });
    // The thief signs a newer timestamp for pump-1 with the old key and gets it served: refused.
    const latest = await s.cw.db.query<{ version: number; body: Buffer }>(
      `select version, body from director_device_metadata where device_id = 'pump-1' and role = 'timestamp' order by version desc limit 1`,
    );
    const current = JSON.parse(Buffer.from(latest.rows[0].body).toString('utf8')).signed;
    const forged = Metadata.fromJSON(MetadataKind.Timestamp, { signed: { ...current, version: current.version + 1 }, signatures: [] } as never);
    forged.sign(signerFor(stolen));
    const honest = s.cw.director.file.bind(s.cw.director);
    s.cw.director.file = async (id, role, version) =>
      id === 'pump-1' && role === 'timestamp' ? Buffer.from(JSON.stringify(forged.toJSON())) : honest(id, role, version);
    try {
      assert.match(refused(await device('pump-1').run()), /the director did not verify: .*timestamp was signed by 0\/1 keys/);
    } finally {
      s.cw.director.file = honest;
    }
    assert.deepEqual(device('pump-1').contents(), ['pump.fw-2.img', 'pump.fw-3.img']);
  });

  test('the director serves nothing for a device it does not know', async () => {
    assert.equal((await call(s.url, 'GET', '/updates/director/ghost-1/metadata/timestamp.json')).status, 404);
    assert.equal((await call(s.url, 'GET', '/updates/director/..%2Fetc/metadata/timestamp.json')).status, 404);
  });
});
