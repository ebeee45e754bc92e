/**
 * Security advisories (issue 25, item 6): a CSAF 2.0 advisory written in the shape of CISA's ICSMA
 * advisories (test/fixtures/csaf), validated, matched to an inventory: exactly (CPE, purl, the very
 * version), by version range, and uncertainly (a name variant, an unknown version) for an engineer
 * to confirm; SBOM components too. VEX per device, kept as history; the release that fixes it.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeLeaf } from '../src/audit/index.js';
import { signManifest } from '../src/device/index.js';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const ADVISORY = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'csaf', 'icsma-pump.json'), 'utf8'));
const CSV = `device_id,vendor,model,hardware_id,class,life_critical
pump-a,Acme Medical,Infusa 500,HW-A,infusion-pump,yes
pump-b,Acme Medical,Infusa 500,HW-A,infusion-pump,yes
pump-c,ACME MEDICAL GmbH,Infusa 700,HW-C,infusion-pump,yes
pump-d,Acme Medical,Infusa 500,HW-A,infusion-pump,yes
hub-1,Acme Medical,Infusa SmartHub,HW-H,infusion-hub,no
mon-1,Vista Monitors,Vista 12,HW-M,patient-monitor,no
vent-1,Breathe,AirLife 2,HW-V,ventilator,yes
`;

describe('security advisories matched to the equipment', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const keys = new Map<string, crypto.KeyObject>();
  const as = (u: string, method: string, url: string, body?: unknown, type = 'application/json') =>
    call(s.url, method, url, {
      token: tokens[u],
      ...(typeof body === 'string' ? { raw: body } : { body }),
      headers: body === undefined ? {} : { 'content-type': type },
    });
  /** The device reports what it runs, signed with its own key. */
  const report = async (id: string, version: string, target: string | null = null, at = Date.now()) => {
    if (!keys.has(id)) {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
      keys.set(id, privateKey);
      const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
      await s.cw.updates.devices.add({ id, deviceClass: 'infusion-pump', hardwareId: 'HW', publicHex: hex });
    }
    const m = { deviceId: id, target, sha256: target ? 'ab'.repeat(32) : null, version, releaseCounter: target ? 2 : 0, time: new Date(at).toISOString() };
    const r = await call(s.url, 'POST', `/updates/devices/${id}/manifest`, {
      body: signManifest(m, keys.get(id)!),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };
  const of = async (device: string) => (await as('eng', 'GET', `/advisories/devices/${device}`)).body.advisories as Array<Record<string, any>>;
  const pick = (list: Array<Record<string, any>>, cve: string) => list.filter((x) => x.vulnerability === cve);

  before(async () => {
    s = await startTestServer();
    tokens.eng = await s.login(['biomedical-engineer'], 'eng-e');
    tokens.sec = await s.login(['security-admin'], 'sec-s');
    tokens.nurse = await s.login(['nurse'], 'nurse-n');
    await s.login(['privacy-officer'], 'po-p');
    assert.equal((await as('eng', 'POST', '/inventory/import', CSV, 'text/csv')).status, 200);
    // The Infusa 700's model carries its CPE; the Vista 12's model its SBOM.
    const models = (await s.cw.fhir.search(SYSTEM, 'DeviceDefinition', { _count: ['50'] }, new URL('http://x/fhir'))).entry!.map((e) => e.resource as any);
    const i700 = models.find((m) => m.modelNumber === 'Infusa 700');
    await s.cw.fhir.update(SYSTEM, 'DeviceDefinition', i700.id, {
      ...i700,
      identifier: [...i700.identifier, { system: 'urn:carewall:cpe', value: 'cpe:2.3:h:acme_medical:infusa_700:3.0:*:*:*:*:*:*:*' }],
    });
    const vista = models.find((m) => m.modelNumber === 'Vista 12');
    const sbom = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'zlib', version: '1.2.11', purl: 'pkg:generic/zlib@1.2.11' }] };
    assert.equal((await as('eng', 'PUT', `/inventory/models/${vista.id}/sbom`, sbom)).status, 204);
    await report('pump-a', '2.0.3');
    await report('pump-b', '2.1');
    await report('pump-c', '3.0');
    await report('hub-1', '5.2');
  });
  after(() => s?.close());

  test('an invalid document is refused and nothing is kept; a valid one is imported and the officers hear of life-critical devices', async () => {
    const broken = structuredClone(ADVISORY);
    broken.vulnerabilities[0].product_status.known_affected.push('CSAFPID-9999'); // a product the tree does not define
    const bad = await as('eng', 'POST', '/advisories', broken);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /not a valid CSAF 2.0 document/);
    assert.deepEqual((await as('eng', 'GET', '/advisories')).body, []);
    assert.equal((await as('nurse', 'POST', '/advisories', ADVISORY)).status, 403);
    assert.equal((await as('sec', 'POST', '/advisories', ADVISORY)).status, 403);
    const denied = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf)).filter((r) => r.outcome === 'denied');
    assert.deepEqual(
      denied.filter((r) => r.action === 'advisory.import').map((r) => r.user?.username),
      ['nurse-n', 'sec-s'],
    );
    const r = await as('eng', 'POST', '/advisories', ADVISORY);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { id: 'ICSMA-26-101-01', version: '1', devices: 6 });
    const notes = (await s.cw.notices.forReader((await s.cw.identity.describeAccount('po-p'))!.who)).notifications;
    assert.ok(notes.some((n) => n.message.includes('ICSMA-26-101-01') && n.message.includes('pump-a')));
  });

  test('matches: by version range, the very version, a CPE, an SBOM purl; uncertain for a name variant and an unknown version; none otherwise', async () => {
    assert.deepEqual(
      pick(await of('pump-a'), 'CVE-2026-10001').map((x) => [x.certainty, x.status, x.severity]),
      [['range', 'affected', 'high']],
    );
    assert.deepEqual(
      pick(await of('pump-b'), 'CVE-2026-10001').map((x) => [x.certainty, x.status]),
      [['exact', 'fixed']],
    );
    assert.deepEqual(
      pick(await of('pump-c'), 'CVE-2026-10001').map((x) => [x.certainty, x.status, x.productId]),
      [['exact', 'affected', 'CSAFPID-0003']],
    );
    assert.deepEqual(
      (await of('hub-1')).map((x) => [x.certainty, x.productId]),
      [['uncertain', 'CSAFPID-0004']],
    );
    assert.deepEqual(
      (await of('pump-d')).map((x) => x.certainty),
      ['uncertain', 'uncertain'],
      'never reported: its version is unknown, against both Infusa 500 products',
    );
    assert.deepEqual(
      (await of('mon-1')).map((x) => [x.vulnerability, x.certainty, x.via]),
      [['CVE-2026-10002', 'exact', 'component zlib 1.2.11']],
    );
    assert.deepEqual(await of('vent-1'), []);
    const fleet = (await as('eng', 'GET', '/inventory/devices')).body as Array<Record<string, any>>;
    assert.deepEqual(fleet.find((d) => d.deviceId === 'pump-a')!.vulnerabilities, { open: 1, highestSeverity: 'high' });
    assert.deepEqual(fleet.find((d) => d.deviceId === 'pump-b')!.vulnerabilities, { open: 0 });
    assert.deepEqual(fleet.find((d) => d.deviceId === 'vent-1')!.vulnerabilities, { open: 0 });
  });

  test('an engineer confirms or rejects an uncertain match; a rejected one is no longer open', async () => {
    assert.equal(
      (
        await as('eng', 'POST', '/advisories/decisions', {
          advisory: 'ICSMA-26-101-01',
          device: 'hub-1',
          productId: 'CSAFPID-0004',
          decision: 'rejected',
          note: 'no',
        })
      ).status,
      400,
    );
    const r = await as('eng', 'POST', '/advisories/decisions', {
      advisory: 'ICSMA-26-101-01',
      device: 'hub-1',
      productId: 'CSAFPID-0004',
      decision: 'rejected',
      note: 'the SmartHub is a different product line from the Smart Hub',
    });
    assert.equal(r.status, 204);
    assert.equal((await of('hub-1'))[0].decision, 'rejected');
    assert.equal((await s.cw.advisories.stateOf(['hub-1'])).get('hub-1')!.open, 0);
  });

  test('VEX per device: "not affected" needs a justification; every statement is kept; other roles may not state', async () => {
    const base = { advisory: 'ICSMA-26-101-01', vulnerability: 'CVE-2026-10001', device: 'pump-c' };
    assert.equal((await as('eng', 'POST', '/advisories/vex', { ...base, status: 'not_affected', note: 'service port disabled at install' })).status, 400);
    assert.equal((await as('sec', 'POST', '/advisories/vex', { ...base, status: 'under_investigation', note: 'looking into the ward setup' })).status, 403);
    assert.equal(
      (await as('eng', 'POST', '/advisories/vex', { ...base, status: 'under_investigation', note: 'checking which ports the ward uses' })).status,
      204,
    );
    const ok = await as('eng', 'POST', '/advisories/vex', {
      ...base,
      status: 'not_affected',
      justification: 'vulnerable_code_cannot_be_controlled_by_adversary',
      note: 'service port disabled at install',
    });
    assert.equal(ok.status, 204);
    const now = pick(await of('pump-c'), 'CVE-2026-10001')[0];
    assert.deepEqual([now.status, now.statusFrom, now.justification], ['not_affected', 'engineer', 'vulnerable_code_cannot_be_controlled_by_adversary']);
    const history = (await as('sec', 'GET', '/advisories/devices/pump-c')).body.history;
    assert.deepEqual(
      history.map((h: { status: string; by: string }) => [h.status, h.by]),
      [
        ['under_investigation', 'eng-e'],
        ['not_affected', 'eng-e'],
      ],
    );
    assert.equal((await as('nurse', 'GET', '/advisories/devices/pump-c')).status, 403);
  });

  test('the release that fixes it: a device reporting it is shown fixed', async () => {
    assert.equal((await as('eng', 'POST', '/advisories/ICSMA-26-101-01/fixed-by', { target: 'infusion-pump.fw-2.1.img' })).status, 204);
    await report('pump-a', '2.1', 'infusion-pump.fw-2.1.img', Date.now() + 1000);
    const now = pick(await of('pump-a'), 'CVE-2026-10001');
    // 2.1 is no longer in the affected range: what matches now is the fixed product, exactly.
    assert.deepEqual(
      now.map((x) => [x.productId, x.status, x.fixedBy]),
      [['CSAFPID-0002', 'fixed', ['infusion-pump.fw-2.1.img']]],
    );
  });

  test('a later revision is imported beside the first; the same or an older one is refused', async () => {
    assert.equal((await as('eng', 'POST', '/advisories', ADVISORY)).status, 409);
    const rev2 = structuredClone(ADVISORY);
    rev2.document.tracking.version = '2';
    rev2.document.tracking.current_release_date = '2026-05-01T12:00:00.000Z';
    rev2.document.tracking.revision_history.push({ number: '2', date: '2026-05-01T12:00:00.000Z', summary: 'Infusa 700 3.1 added' });
    assert.equal((await as('eng', 'POST', '/advisories', rev2)).status, 201);
    const rows = await s.cw.db.query('select version from advisories_document order by version');
    assert.deepEqual(
      rows.rows.map((r: any) => r.version),
      ['1', '2'],
    );
    assert.equal((await as('eng', 'GET', '/advisories')).body[0].version, '2');
  });

  test('the same new revision sent twice at once: one is imported, the other refused as a conflict', async () => {
    const rev3 = structuredClone(ADVISORY);
    rev3.document.tracking.version = '3';
    rev3.document.tracking.current_release_date = '2026-06-01T12:00:00.000Z';
    rev3.document.tracking.revision_history.push(
      { number: '2', date: '2026-05-01T12:00:00.000Z', summary: 'Infusa 700 3.1 added' },
      { number: '3', date: '2026-06-01T12:00:00.000Z', summary: 'Fixes listed' },
    );
    const answers = await Promise.all([as('eng', 'POST', '/advisories', rev3), as('eng', 'POST', '/advisories', rev3)]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409], JSON.stringify(answers.map((r) => r.body)));
    const rows = await s.cw.db.query("select version from advisories_document where version = '3'");
    assert.equal(rows.rows.length, 1);
  });

  test("a release's SBOM is checked against the advisories", async () => {
    const hits = await s.cw.advisories.checkRelease({
      vendor: 'Vista Monitors',
      version: '13',
      components: [{ name: 'zlib', version: '1.2.11', purl: 'pkg:generic/zlib@1.2.11' }],
    });
    assert.deepEqual(
      hits.map((h) => h.id),
      ['ICSMA-26-101-01'],
    );
    assert.deepEqual(
      await s.cw.advisories.checkRelease({
        vendor: 'Vista Monitors',
        version: '13',
        components: [{ name: 'zlib', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1' }],
      }),
      [],
    );
  });

  test("a revision that numbers its products anew keeps the engineers' decisions with the products", async () => {
    const latest = (await as('eng', 'GET', '/advisories')).body.find((a: { id: string }) => a.id === 'ICSMA-26-101-01');
    const renumbered = JSON.parse(JSON.stringify(ADVISORY).replaceAll('CSAFPID-', 'CSAFPID-9'));
    const next = String(Number(latest.version) + 1);
    renumbered.document.tracking.version = next;
    const dates = ['2026-04-11', '2026-05-01', '2026-06-01', '2026-07-01', '2026-08-01'].map((d) => `${d}T12:00:00.000Z`);
    renumbered.document.tracking.revision_history = dates.slice(0, Number(next)).map((date, i) => ({
      number: String(i + 1),
      date,
      summary: i === 0 ? 'Initial publication' : 'Revised',
    }));
    renumbered.document.tracking.current_release_date = dates[Number(next) - 1];
    const r = await as('eng', 'POST', '/advisories', renumbered);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const hub = await of('hub-1');
    assert.equal(hub[0].productId, 'CSAFPID-90004');
    assert.equal(hub[0].decision, 'rejected', 'the rejection made on CSAFPID-0004 stays with the product');
    assert.equal((await s.cw.advisories.stateOf(['hub-1'])).get('hub-1')!.open, 0);
  });

  test("a model's SBOM replaced: the next view matches what the new one lists, not the old", async () => {
    assert.equal((await of('mon-1')).length, 1);
    const models = (await s.cw.fhir.search(SYSTEM, 'DeviceDefinition', { _count: ['50'] }, new URL('http://x/fhir'))).entry!.map((e) => e.resource as any);
    const vista = models.find((m) => m.modelNumber === 'Vista 12');
    const sbom = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'zlib', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1' }] };
    assert.equal((await as('eng', 'PUT', `/inventory/models/${vista.id}/sbom`, sbom)).status, 204);
    assert.deepEqual(await of('mon-1'), []);
  });
});
