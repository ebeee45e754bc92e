/**
 * The equipment inventory (issue 25, item 1): devices imported from CSV, CycloneDX or FHIR as FHIR
 * Device and DeviceDefinition, all rows or none; the fleet with what each device reported in its
 * signed manifest (never typed in); maintenance windows the director uses; models' SBOMs. Clinical
 * roles are refused the inventory, through /fhir as well.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeLeaf } from '../src/audit/index.js';
import { signManifest } from '../src/device/index.js';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const CSV = `device_id,vendor,model,serial,hardware_id,hardware_revision,class,life_critical,location,network_zone,maintenance_days,maintenance_start,maintenance_end,time_zone
pump-1,Acme Medical,Infusa 500,SN-001,HW-A,rev B,infusion-pump,yes,Ward 3 East,med-devices,mon thu,02:00,04:00,Europe/Berlin
vent-1,Breathe GmbH,AirLife 2,SN-900,HW-V2,,ventilator,yes,Ward 3 East,med-devices,daily,01:00,03:00,Europe/Berlin
`;

describe('the equipment inventory', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const as = (u: string, method: string, url: string, body?: unknown, type = 'application/json') =>
    call(s.url, method, url, {
      token: tokens[u],
      ...(typeof body === 'string' ? { raw: body } : { body }),
      headers: body === undefined ? {} : { 'content-type': type },
    });
  const fleet = async () => (await as('eng', 'GET', '/inventory/devices')).body as Array<Record<string, any>>;

  before(async () => {
    s = await startTestServer();
    await s.cw.fhir.create(SYSTEM, 'Location', { resourceType: 'Location', name: 'Ward 3 East' });
    tokens.eng = await s.login(['biomedical-engineer'], 'eng-e');
    tokens.sec = await s.login(['security-admin'], 'sec-s');
    tokens.doctor = await s.login(['physician'], 'dr-d');
    tokens.nurse = await s.login(['nurse'], 'nurse-n');
    tokens.admin = await s.login(['admin'], 'admin-a');
  });
  after(() => s?.close());

  test('a CSV import makes devices and their models; the fleet shows names, windows and what each device reported', async () => {
    const r = await as('eng', 'POST', '/inventory/import', CSV, 'text/csv');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { created: 2, updated: 0 });
    // The pump reports what it runs, signed with its own key.
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    await s.cw.updates.devices.add({
      id: 'pump-1',
      deviceClass: 'infusion-pump',
      hardwareId: 'HW-A',
      publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'),
    });
    const manifest = { deviceId: 'pump-1', target: null, sha256: null, version: '1.4', releaseCounter: 0, time: new Date().toISOString() };
    assert.equal(
      (
        await call(s.url, 'POST', '/updates/devices/pump-1/manifest', {
          body: signManifest(manifest, privateKey),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
      201,
    );
    const devices = await fleet();
    const pump = devices.find((d) => d.deviceId === 'pump-1')!;
    assert.equal(pump.vendor, 'Acme Medical');
    assert.equal(pump.model, 'Infusa 500');
    assert.equal(pump.location, 'Ward 3 East');
    assert.equal(pump.lifeCritical, true);
    assert.deepEqual(pump.windows, [{ days: ['mon', 'thu'], start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' }]);
    assert.deepEqual(pump.reported?.version, '1.4');
    assert.deepEqual(devices.find((d) => d.deviceId === 'vent-1')!.flags, ['not-registered']);
    // The director reads the same windows.
    assert.deepEqual(await s.cw.inventory.maintenanceWindows('pump-1'), [{ days: ['mon', 'thu'], start: '02:00', end: '04:00', timeZone: 'Europe/Berlin' }]);
    const models = await as('eng', 'GET', '/fhir/DeviceDefinition');
    assert.equal(models.body.total ?? models.body.entry.length, 2);
    // Security admins read the fleet.
    assert.equal((await as('sec', 'GET', '/inventory/devices')).body.length, 2);
  });

  test('a bad row refuses the whole file, naming the row and column and not the value; nothing is stored', async () => {
    const bad = CSV.replace('pump-1,', 'pump-2,').replace('vent-1,', 'vent-2,').replace('daily,01:00', 'someday-SECRET,01:00');
    const r = await as('eng', 'POST', '/inventory/import', bad, 'text/csv');
    assert.equal(r.status, 400);
    assert.match(r.body.error, /row 3: maintenance_days/);
    assert.doesNotMatch(JSON.stringify(r.body), /SECRET/);
    const unknownLocation = CSV.replace('pump-1,', 'pump-3,')
      .replace(/vent-1.*\n/, '')
      .replace('Ward 3 East', 'Ward 9 SECRET');
    const r2 = await as('eng', 'POST', '/inventory/import', unknownLocation, 'text/csv');
    assert.match(r2.body.error, /row 2: location: no location of that name/);
    assert.doesNotMatch(JSON.stringify(r2.body), /SECRET/);
    assert.deepEqual((await fleet()).map((d) => d.deviceId).sort(), ['pump-1', 'vent-1']);
  });

  test('importing again updates the same devices, keeping what the file does not say', async () => {
    const pump = (await fleet()).find((d) => d.deviceId === 'pump-1')!;
    const stored = (await as('eng', 'GET', `/fhir/Device/${pump.id}`)).body;
    const noted = await as('eng', 'PUT', `/fhir/Device/${pump.id}`, { ...stored, note: [{ text: 'battery replaced 2026-11' }] }, 'application/fhir+json');
    assert.equal(noted.status, 200, JSON.stringify(noted.body));
    const moved = CSV.replace('SN-001', 'SN-001-B');
    assert.deepEqual((await as('eng', 'POST', '/inventory/import', moved, 'text/csv')).body, { created: 0, updated: 2 });
    const after = (await as('eng', 'GET', `/fhir/Device/${pump.id}`)).body;
    assert.equal(after.serialNumber, 'SN-001-B');
    assert.deepEqual(after.note, [{ text: 'battery replaced 2026-11' }]);
    assert.equal(Number(after.meta.versionId), Number(stored.meta.versionId) + 2);
    assert.equal((await fleet()).length, 2);
  });

  test('clinical roles and admins are refused the inventory; nobody deletes a device; equipment names no patient', async () => {
    const pump = (await fleet()).find((d) => d.deviceId === 'pump-1')!;
    for (const u of ['doctor', 'nurse', 'admin']) {
      const read = await as(u, 'GET', `/fhir/Device/${pump.id}`);
      assert.equal(read.status, 403, u);
      assert.equal(read.body.resourceType, 'OperationOutcome');
      assert.equal((await as(u, 'GET', '/inventory/devices')).status, 403, u);
      assert.equal((await as(u, 'POST', '/inventory/import', CSV, 'text/csv')).status, 403, u);
    }
    const made = await as('nurse', 'POST', '/fhir/Device', { resourceType: 'Device', manufacturer: 'X' }, 'application/fhir+json');
    assert.equal(made.status, 403);
    assert.equal((await as('eng', 'DELETE', `/fhir/Device/${pump.id}`)).status, 403);
    assert.equal((await as('sec', 'POST', '/fhir/Device', { resourceType: 'Device', manufacturer: 'X' }, 'application/fhir+json')).status, 403);
    const withPatient = await as('eng', 'POST', '/fhir/Device', { resourceType: 'Device', patient: { reference: 'Patient/p1' } }, 'application/fhir+json');
    assert.equal(withPatient.status, 422);
    assert.match(withPatient.body.issue[0].diagnostics, /names no patient/);
    assert.equal((await fleet()).length, 2);
  });

  test('the software a device runs cannot be typed in: only its signed manifest says it', async () => {
    const pump = (await fleet()).find((d) => d.deviceId === 'pump-1')!;
    const stored = (await as('eng', 'GET', `/fhir/Device/${pump.id}`)).body;
    const typedIn = { ...stored, version: [...(stored.version ?? []), { type: { text: 'firmware' }, value: '9.9' }] };
    const r = await as('eng', 'PUT', `/fhir/Device/${pump.id}`, typedIn, 'application/fhir+json');
    assert.equal(r.status, 422);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.match(r.body.issue[0].diagnostics, /signed manifest/);
    assert.doesNotMatch(JSON.stringify(r.body), /9\.9/, 'the value sent is not echoed');
    const untyped = await as(
      'eng',
      'POST',
      '/fhir/Device',
      { resourceType: 'Device', manufacturer: 'X', version: [{ value: '1.0' }] },
      'application/fhir+json',
    );
    assert.equal(untyped.status, 422, 'a version of no stated kind is not the hardware revision either');
    const after = (await as('eng', 'GET', `/fhir/Device/${pump.id}`)).body;
    assert.equal(after.meta.versionId, stored.meta.versionId, 'nothing changed');
    assert.equal((await fleet()).length, 2);
  });

  test('a CycloneDX BOM of devices; a model SBOM attached; what is not CycloneDX is refused', async () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [
        {
          type: 'device',
          name: 'Vista 12',
          version: 'rev A',
          manufacturer: { name: 'Monitor Co' },
          properties: [
            { name: 'carewall:device-id', value: 'mon-1' },
            { name: 'carewall:hardware-id', value: 'HW-M' },
            { name: 'carewall:class', value: 'patient-monitor' },
          ],
        },
      ],
    };
    assert.deepEqual((await as('eng', 'POST', '/inventory/import', bom)).body, { created: 1, updated: 0 });
    assert.equal((await as('eng', 'POST', '/inventory/import', { bomFormat: 'SPDX' })).status, 415);
    const model = (await as('eng', 'GET', '/fhir/DeviceDefinition?_count=50')).body.entry
      .map((e: any) => e.resource)
      .find((m: any) => m.modelNumber === 'Vista 12');
    const sbom = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'openssl', version: '1.1.1k', purl: 'pkg:generic/openssl@1.1.1k' }] };
    assert.equal((await as('eng', 'PUT', `/inventory/models/${model.id}/sbom`, sbom)).status, 204);
    assert.equal((await as('eng', 'PUT', `/inventory/models/${model.id}/sbom`, { bomFormat: 'nope' })).status, 400);
    const items = await s.cw.inventory.fleetItems();
    assert.deepEqual(items.find((i) => i.deviceId === 'mon-1')?.components, [{ name: 'openssl', version: '1.1.1k', purl: 'pkg:generic/openssl@1.1.1k' }]);
    const records = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf));
    const steps = records.filter((r) => r.action.startsWith('inventory.') && r.outcome === 'success').map((r) => `${r.action} ${r.user?.username}`);
    assert.deepEqual(steps, ['inventory.import-csv eng-e', 'inventory.import-csv eng-e', 'inventory.import-cyclonedx eng-e', 'inventory.attach-sbom eng-e']);
    // The refusals are recorded too: who tried what.
    const denied = records.filter((r) => r.action.startsWith('inventory.') && r.outcome === 'denied').map((r) => `${r.action} ${r.user?.username}`);
    for (const u of ['dr-d', 'nurse-n', 'admin-a']) assert.ok(denied.includes(`inventory.import-csv ${u}`) && denied.includes(`inventory.fleet ${u}`), u);
  });

  test('a FHIR Bundle of devices: checked like a row, matched by device id when imported again, its model identifiers kept', async () => {
    const device = (serial: string) => ({
      resourceType: 'Device',
      identifier: [
        { system: 'urn:carewall:device-id', value: 'lab-1' },
        { system: 'urn:carewall:hardware-id', value: 'HW-L' },
      ],
      manufacturer: 'Analyt AG',
      modelNumber: 'Chem 9',
      serialNumber: serial,
      type: { coding: [{ system: 'urn:carewall:device-class', code: 'lab-analyser' }] },
      location: { display: 'Ward 3 East' },
      extension: [
        {
          url: 'urn:carewall:extension:maintenance-window',
          extension: [
            { url: 'day', valueCode: 'sun' },
            { url: 'start', valueTime: '22:00:00' },
            { url: 'end', valueTime: '23:30:00' },
            { url: 'timeZone', valueCode: 'Europe/Berlin' },
          ],
        },
      ],
    });
    const model = {
      resourceType: 'DeviceDefinition',
      manufacturerString: 'Analyt AG',
      modelNumber: 'Chem 9',
      identifier: [{ system: 'urn:carewall:cpe', value: 'cpe:2.3:h:analyt:chem_9:*:*:*:*:*:*:*:*' }],
    };
    const bundle = (serial: string) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: model, request: { method: 'POST', url: 'DeviceDefinition' } },
        { resource: device(serial), request: { method: 'POST', url: 'Device' } },
      ],
    });
    assert.deepEqual((await as('eng', 'POST', '/inventory/import', bundle('SN-L1'))).body, { created: 1, updated: 0 });
    // The same file again (its entries still say POST), with a new serial: the same device, updated.
    assert.deepEqual((await as('eng', 'POST', '/inventory/import', bundle('SN-L2'))).body, { created: 0, updated: 1 });
    const lab = (await fleet()).filter((d) => d.deviceId === 'lab-1');
    assert.equal(lab.length, 1);
    assert.equal(lab[0].serial, 'SN-L2');
    assert.equal(lab[0].location, 'Ward 3 East');
    assert.deepEqual(lab[0].windows, [{ days: ['sun'], start: '22:00', end: '23:30', timeZone: 'Europe/Berlin' }]);
    const models = (await as('eng', 'GET', '/fhir/DeviceDefinition?_count=50')).body.entry
      .map((e: any) => e.resource)
      .filter((m: any) => m.modelNumber === 'Chem 9');
    assert.equal(models.length, 1, 'one model, not one per import');
    assert.ok(models[0].identifier.some((i: any) => i.system === 'urn:carewall:cpe'));
    // An entry without what every import needs is refused by its number, and nothing is written.
    const broken = bundle('SN-L3');
    delete (broken.entry[1].resource as { identifier?: unknown }).identifier;
    const refused = await as('eng', 'POST', '/inventory/import', broken);
    assert.equal(refused.status, 400);
    assert.match(refused.body.error, /entry 2: device_id: required/);
    assert.equal((await fleet()).find((d) => d.deviceId === 'lab-1')!.serial, 'SN-L2');
  });
});
