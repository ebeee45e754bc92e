/**
 * Releasing equipment updates over the console (issue 25, "who may release updates"): device
 * classes set up and engineers assigned by an admin, each engineer's own key delegated by the
 * targets key holder, and a release that goes vendor signature → quarantine → SBOM and advisory
 * check → test-lab sign-off → each engineer's own signature → published, which an unmodified tuf-js
 * device then installs. The refusals are tried: other roles, an engineer of another class, one
 * engineer alone on a life-critical class, someone else's signature, a wrong vendor signature,
 * steps out of order, assigning oneself.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeLeaf } from '../src/audit/index.js';
import { call, startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { Ceremony, device, imageBytes } from './helpers/updates.js';
import { runAgent } from '../src/device/index.js';

const SBOM = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  components: [{ name: 'openssl', version: '3.0.13', purl: 'pkg:generic/openssl@3.0.13', components: [{ name: 'zlib', version: '1.3.1' }] }],
};

describe('releasing equipment updates over the console', () => {
  let s: TestServer;
  let work: string;
  let c: Ceremony;
  let root: string;
  const tokens: Record<string, string> = {};
  let vendorKeyId: string;
  const vendor = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherVendor = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // What `openssl dgst -sha256 -sign vendor.pem` makes: an ECDSA signature over SHA-256 of the file.
  const vendorSign = (bytes: Buffer, key = vendor.privateKey) => crypto.sign('sha256', bytes, key).toString('base64');
  const devices: Array<{ cleanup(): void }> = [];

  const as = (who: string, method: string, url: string, body?: unknown) =>
    call(s.url, method, url, { token: tokens[who], body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
  const putImage = async (who: string, id: string, bytes: Buffer) => {
    const res = await fetch(`${s.url}/updates/releases/${id}/image`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  /** The targets key holder signs a class's delegation, proposed from the assignments; an admin carries the signature in. */
  const delegate = async (cls: string) => {
    const p = await as('admin', 'POST', `/updates/classes/${cls}/delegation`);
    assert.equal(p.status, 201, JSON.stringify(p.body));
    fs.writeFileSync(path.join(work, `${cls}-delegation.json`), p.body.unsigned);
    const sig = JSON.parse(fs.readFileSync(path.join(work, await c.sign('targets', `${cls}-delegation.json`)), 'utf8'));
    const added = await as('admin', 'POST', '/updates/signatures', sig);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.published, true);
  };
  /** An engineer signs the release's unsigned file offline; the signature file's JSON. */
  const engineerSignature = async (engineer: string, id: string, signer = engineer) => {
    const unsigned = await as(engineer, 'GET', `/updates/releases/${id}/unsigned`);
    assert.equal(unsigned.status, 200);
    const file = `${id}-${signer}.unsigned.json`;
    fs.writeFileSync(path.join(work, file), JSON.stringify(unsigned.body));
    return JSON.parse(fs.readFileSync(path.join(work, await c.sign(signer, file)), 'utf8'));
  };
  const release = (cls: string, name: string, counter: number, bytes: Buffer, extra: Record<string, unknown> = {}) => ({
    deviceClass: cls,
    name,
    version: `${counter}.0`,
    hardwareIds: ['HW-REV-B'],
    releaseCounter: counter,
    minUpgradeFrom: '1.0',
    vendorKeyId,
    vendorSignature: vendorSign(bytes),
    ...extra,
  });
  /** A release made by `engineer` up to awaiting approval. */
  const prepared = async (engineer: string, body: ReturnType<typeof release>, bytes: Buffer) => {
    const made = await as(engineer, 'POST', '/updates/releases', body);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal((await putImage(engineer, made.body.id, bytes)).status, 200);
    assert.equal((await as(engineer, 'PUT', `/updates/releases/${made.body.id}/sbom`, SBOM)).status, 200);
    const lab = await as(engineer, 'POST', `/updates/releases/${made.body.id}/lab-signoff`, { passed: true, note: 'bench test on two units passed' });
    assert.equal(lab.status, 200, JSON.stringify(lab.body));
    assert.equal(lab.body.state, 'awaiting-approval');
    return made.body.id as string;
  };

  before(async () => {
    s = await startTestServer();
    work = tempDir('carewall-releases-');
    c = new Ceremony(work, s.dataDir, { insideServer: s.cw });
    for (const h of ['root-a', 'root-b', 'root-c', 'targets', 'alice', 'bob', 'carol', 'dave']) await c.keygen(h);
    const rootFile = await c.propose(
      ['updates', 'init-root', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-c.key.pub', '--targets-key', 'targets.key.pub'],
      'root-1.json',
    );
    await c.approve(rootFile, ['root-a', 'root-b']);
    root = await c.root();
    tokens.admin = await s.login(['admin'], 'it-admin');
    tokens.nurse = await s.login(['nurse'], 'nurse-n');
    tokens.officer = await s.login(['privacy-officer'], 'po-p');
    for (const e of ['alice', 'bob', 'carol', 'dave']) {
      tokens[e] = await s.login(['biomedical-engineer'], e);
      const pub = JSON.parse(fs.readFileSync(path.join(work, `${e}.key.pub`), 'utf8'));
      const r = await as(e, 'PUT', '/updates/engineers/me/key', pub);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    assert.equal((await as('admin', 'POST', '/updates/classes', { name: 'ventilator', lifeCritical: true })).status, 201);
    assert.equal((await as('admin', 'POST', '/updates/classes', { name: 'thermometer', lifeCritical: false })).status, 201);
    for (const [cls, e] of [
      ['ventilator', 'alice'],
      ['ventilator', 'bob'],
      ['thermometer', 'carol'],
    ])
      assert.equal((await as('admin', 'POST', `/updates/classes/${cls}/engineers`, { username: e })).status, 201);
    await delegate('ventilator');
    await delegate('thermometer');
    const v = await as('admin', 'POST', '/updates/vendors', { vendor: 'Acme Medical', publicKeyPem: vendor.publicKey.export({ type: 'spki', format: 'pem' }) });
    assert.equal(v.status, 201, JSON.stringify(v.body));
    vendorKeyId = v.body.keyid;
  });
  after(async () => {
    devices.forEach((d) => d.cleanup());
    await s?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a life-critical release: two assigned engineers approve with their own keys, then a device installs it', async () => {
    const bytes = imageBytes('ventilator 2.0', 200_000);
    const id = await prepared('alice', release('ventilator', 'fw-2.0.img', 2, bytes), bytes);
    const dev = device(root, s.url);
    devices.push(dev);

    const first = await as('alice', 'POST', `/updates/releases/${id}/approvals`, await engineerSignature('alice', id));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.approvals, { signedBy: ['alice'], needed: 2 });
    assert.equal(first.body.state, 'awaiting-approval');
    // One engineer alone: the class's metadata is not published, so there is nothing a device could fetch.
    assert.equal((await call(s.url, 'GET', '/updates/metadata/1.ventilator.json')).status, 404);

    const second = await as('bob', 'POST', `/updates/releases/${id}/approvals`, await engineerSignature('bob', id));
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.state, 'published');
    assert.equal((await call(s.url, 'GET', '/updates/metadata/1.ventilator.json')).status, 200);
    assert.deepEqual(await dev.fetch('ventilator.fw-2.0.img'), bytes);
    const target = await dev.updater.getTargetInfo('ventilator.fw-2.0.img');
    assert.deepEqual((target!.custom as { vendor: { keyid: string } }).vendor.keyid, vendorKeyId);

    // Each step is in the audit log under its engineer, and the officers were told of each approval.
    const { size } = await s.cw.audit.log.head();
    const records = (await s.cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf));
    const steps = records.filter((r) => r.resource?.id === id).map((r) => `${r.action} ${r.user?.username}`);
    assert.deepEqual(steps, [
      'release.create alice',
      'release.image alice',
      'release.sbom alice',
      'release.lab-signoff alice',
      'release.approve alice',
      'release.approve bob',
    ]);
    const notes = await as('officer', 'GET', '/api/notifications');
    const about = notes.body.notifications.filter((n: { message: string }) => n.message.includes('ventilator.fw-2.0.img'));
    assert.equal(about.length, 2);
  });

  test('who may not: other roles, an engineer of another class, an assigned engineer not yet delegated', async () => {
    const bytes = imageBytes('ventilator 3.0', 1000);
    const body = release('ventilator', 'fw-3.0.img', 3, bytes);
    for (const who of ['nurse', 'admin', 'carol']) assert.equal((await as(who, 'POST', '/updates/releases', body)).status, 403, who);
    assert.equal((await as('nurse', 'GET', '/updates/releases')).status, 403);
    // Dave is assigned to ventilators now, but no delegation naming his key is published yet.
    assert.equal((await as('admin', 'POST', '/updates/classes/ventilator/engineers', { username: 'dave' })).status, 201);
    assert.equal((await as('dave', 'POST', '/updates/releases', body)).status, 403);
    const id = await prepared('alice', body, bytes);
    // Carol signs with her own key: refused by the server, and her key could not count on a device.
    const carol = await as('carol', 'POST', `/updates/releases/${id}/approvals`, await engineerSignature('alice', id, 'carol'));
    assert.equal(carol.status, 403);
    // Bob carries in Alice's signature: refused (an approval is one's own).
    const aliceSig = await engineerSignature('alice', id);
    assert.equal((await as('bob', 'POST', `/updates/releases/${id}/approvals`, aliceSig)).status, 403);
    const state = await as('alice', 'GET', `/updates/releases/${id}`);
    assert.deepEqual(state.body.approvals.signedBy, []);
    const denied = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size))
      .map((l) => decodeLeaf(l.leaf))
      .filter((r) => r.outcome === 'denied' && r.action.startsWith('release.'));
    assert.ok(denied.some((r) => r.user?.username === 'carol'));
    assert.ok(denied.some((r) => r.user?.username === 'bob' && r.action === 'release.approve'));
    assert.equal((await as('alice', 'POST', `/updates/releases/${id}/withdraw`, { reason: 'superseded by a later build' })).body.state, 'withdrawn');
    assert.equal((await as('admin', 'DELETE', '/updates/classes/ventilator/engineers/dave')).status, 204);
  });

  test("an image without the vendor's signature is refused and not kept", async () => {
    const bytes = imageBytes('thermometer forged', 5000);
    const made = await as(
      'carol',
      'POST',
      '/updates/releases',
      release('thermometer', 'fw-9.img', 9, bytes, { vendorSignature: vendorSign(bytes, otherVendor.privateKey) }),
    );
    assert.equal(made.status, 201);
    const put = await putImage('carol', made.body.id, bytes);
    assert.equal(put.status, 400);
    assert.match(put.body.error, /vendor signature does not verify/);
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    assert.equal((await s.cw.db.query('select 1 from updates_blob where sha256 = $1', [sha])).rows.length, 0);
    const after = await as('carol', 'GET', `/updates/releases/${made.body.id}`);
    assert.equal(after.body.state, 'rejected');
    // An altered byte after the vendor signed: the same.
    const good = imageBytes('thermometer good', 5000);
    const again = await as('carol', 'POST', '/updates/releases', release('thermometer', 'fw-10.img', 10, good));
    const flipped = Buffer.from(good);
    flipped[100] ^= 1;
    assert.equal((await putImage('carol', again.body.id, flipped)).status, 400);
  });

  test('steps in order: no sign-off before the SBOM, no approval before the sign-off, open advisories accepted in words', async () => {
    const bytes = imageBytes('thermometer 11', 3000);
    const made = await as('carol', 'POST', '/updates/releases', release('thermometer', 'fw-11.img', 11, bytes));
    const id = made.body.id;
    assert.equal((await as('carol', 'POST', `/updates/releases/${id}/lab-signoff`, { passed: true, note: 'works on the bench' })).status, 409);
    assert.equal((await putImage('carol', id, bytes)).status, 200);
    assert.equal((await as('carol', 'PUT', `/updates/releases/${id}/sbom`, { bomFormat: 'SPDX' })).status, 400);
    assert.equal((await as('carol', 'POST', `/updates/releases/${id}/lab-signoff`, { passed: true, note: 'works on the bench' })).status, 409);
    s.cw.releases.advisoryCheck = async () => [{ id: 'ICSMA-26-001-01', title: 'openssl in thermometer firmware', severity: 'high' }];
    try {
      assert.equal((await as('carol', 'PUT', `/updates/releases/${id}/sbom`, SBOM)).body.advisories[0].id, 'ICSMA-26-001-01');
    } finally {
      s.cw.releases.advisoryCheck = async () => [];
    }
    const sig = await as('carol', 'GET', `/updates/releases/${id}/unsigned`);
    assert.equal(sig.status, 409, 'nothing to sign before the lab signs off');
    const blocked = await as('carol', 'POST', `/updates/releases/${id}/lab-signoff`, { passed: true, note: 'works on the bench' });
    assert.equal(blocked.status, 409);
    assert.match(blocked.body.error, /ICSMA-26-001-01/);
    const ok = await as('carol', 'POST', `/updates/releases/${id}/lab-signoff`, {
      passed: true,
      note: 'the openssl flaw needs a TLS port this model keeps closed',
      acceptAdvisories: true,
    });
    assert.equal(ok.body.state, 'awaiting-approval');
    const published = await as('carol', 'POST', `/updates/releases/${id}/approvals`, await engineerSignature('carol', id));
    assert.equal(published.body.state, 'published');
  });

  test('nobody assigns themselves, and only admins assign', async () => {
    tokens.both = await s.login(['admin', 'biomedical-engineer'], 'erin');
    const pub = JSON.parse(fs.readFileSync(path.join(work, 'dave.key.pub'), 'utf8'));
    // Dave's key is his: registering it to another account is refused.
    assert.equal((await as('both', 'PUT', '/updates/engineers/me/key', pub)).status, 409);
    await c.keygen('erin');
    assert.equal((await as('both', 'PUT', '/updates/engineers/me/key', JSON.parse(fs.readFileSync(path.join(work, 'erin.key.pub'), 'utf8')))).status, 200);
    assert.equal((await as('both', 'POST', '/updates/classes/thermometer/engineers', { username: 'erin' })).status, 403);
    assert.equal((await as('carol', 'POST', '/updates/classes/thermometer/engineers', { username: 'dave' })).status, 403);
    assert.equal((await as('admin', 'POST', '/updates/classes/thermometer/engineers', { username: 'nurse-n' })).status, 409);
    // A registered key is not replaced in place.
    await c.keygen('alice-2');
    const other = JSON.parse(fs.readFileSync(path.join(work, 'alice-2.key.pub'), 'utf8'));
    assert.equal((await as('alice', 'PUT', '/updates/engineers/me/key', other)).status, 409);
    const classes = await as('officer', 'GET', '/updates/classes');
    assert.deepEqual(
      classes.body.map((x: { name: string; engineers: string[]; threshold: number }) => [x.name, x.engineers, x.threshold]),
      [
        ['thermometer', ['carol'], 1],
        ['ventilator', ['alice', 'bob'], 2],
      ],
    );
  });

  test("the device checks the vendor's signature again, against the vendor keys it was provisioned with", async () => {
    // Provisioned with the vendor's key: the release approved above installs.
    fs.writeFileSync(path.join(work, 'acme.pem'), vendor.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(path.join(work, 'other.pem'), otherVendor.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(path.join(work, 'root.json'), root);
    const provision = async (id: string, vendorPem: string) => {
      await c.run([
        'device',
        'init',
        '--device-key',
        `${id}.key`,
        '--class',
        'ventilator',
        '--hardware-id',
        'HW-REV-B',
        '--image-version',
        '1.0',
        '--vendor-key',
        vendorPem,
      ]);
      await c.data(['updates', 'device', 'add', '--id', id, '--public-key', `${id}.key.pub`, '--hardware-id', 'HW-REV-B', '--class', 'ventilator']);
      const installDir = path.join(work, `${id}-install`);
      fs.mkdirSync(installDir);
      return {
        installDir,
        options: { server: s.url, rootFile: path.join(work, 'root.json'), deviceKeyFile: path.join(work, `${id}.key`), deviceId: id, installDir },
      };
    };
    const good = await provision('vent-1', 'acme.pem');
    assert.deepEqual(await runAgent(good.options), { installed: 'ventilator.fw-2.0.img', version: '2.0', releaseCounter: 2, reported: true });
    // A device that trusts another vendor refuses the same release, engineers' signatures or not.
    const other = await provision('vent-2', 'other.pem');
    assert.match(((await runAgent(other.options)) as { refused: string }).refused, /signed by a vendor key this device does not know/);
    assert.deepEqual(fs.readdirSync(other.installDir), []);
    // A release staged from the data folder (no vendor check at the server), signed by both
    // engineers all the same: a device provisioned with vendor keys refuses it.
    const file = c.writeImage('unvendored.img', imageBytes('no vendor', 3000));
    const stage = [
      'updates',
      'stage',
      '--without-vendor-signature',
      '--class',
      'ventilator',
      '--file',
      file,
      '--name',
      'fw-9.img',
      '--hardware-id',
      'HW-REV-B',
    ];
    stage.push('--release-counter', '50', '--min-upgrade-from', '1.0', '--image-version', '9.0');
    assert.match(await c.approve(await c.propose(stage, 'vent-cli.json'), ['alice', 'bob']), /published/);
    assert.match(((await runAgent(good.options)) as { refused: string }).refused, /carries no vendor signature/);
    assert.deepEqual(fs.readdirSync(good.installDir), ['ventilator.fw-2.0.img']);

    // From the data folder with the vendor's signature: checked on import as the console checks it.
    const vendoredFile = c.writeImage('vendored.img', imageBytes('vendor 10', 3000));
    const vendoredBytes = fs.readFileSync(path.join(work, vendoredFile));
    fs.writeFileSync(path.join(work, 'vendored.sig'), vendorSign(vendoredBytes));
    fs.writeFileSync(path.join(work, 'forged.sig'), vendorSign(vendoredBytes, otherVendor.privateKey));
    const base = ['updates', 'stage', '--class', 'ventilator', '--file', vendoredFile, '--name', 'fw-10.img', '--hardware-id', 'HW-REV-B'];
    base.push('--release-counter', '51', '--min-upgrade-from', '1.0', '--image-version', '10.0');
    // Neither a signature nor a word that there is none: refused before anything is kept.
    const unsaid = await c.data([...base, '--out', 'unsaid.json'], 1);
    assert.match(unsaid.stderr, /give --vendor-key-id and --vendor-signature .*or say --without-vendor-signature/);
    // Another vendor's signature under this vendor's key id: refused, the image not kept.
    const forged = await c.data([...base, '--vendor-key-id', vendorKeyId, '--vendor-signature', 'forged.sig', '--out', 'forged.json'], 1);
    assert.match(forged.stderr, /the vendor signature does not verify over the image; nothing was kept/);
    const sha = crypto.createHash('sha256').update(vendoredBytes).digest('hex');
    assert.equal((await s.cw.db.query('select 1 from updates_blob where sha256 = $1', [sha])).rows.length, 0);
    assert.ok(!fs.existsSync(path.join(work, 'unsaid.json')) && !fs.existsSync(path.join(work, 'forged.json')));
    // The vendor's own: staged, approved by both engineers, and the device checks it again and installs it.
    const vendored = await c.propose([...base, '--vendor-key-id', vendorKeyId, '--vendor-signature', 'vendored.sig'], 'vent-cli-10.json');
    assert.match(await c.approve(vendored, ['alice', 'bob']), /published/);
    assert.deepEqual(await runAgent(good.options), { installed: 'ventilator.fw-10.img', version: '10.0', releaseCounter: 51, reported: true });
  });
});
