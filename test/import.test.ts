/**
 * `carewall import`: Bundles and NDJSON with references between them load, keep their ids and
 * read back through the access rules; one bad line imports nothing and is named; nothing stored is
 * overwritten; the import is one audit record; the embedded folder held by a server is refused.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { decodeLeaf } from '../src/audit/record.js';
import { importFiles } from '../src/bulk/index.js';
import { call, prepareInstallation, startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { runCli } from './helpers/cli.js';

const observation = (id: string, patient: string, value: number) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: `Patient/${patient}` },
  effectiveDateTime: '2026-03-01T10:00:00Z',
  valueQuantity: { value, unit: 'beats/minute' },
});

function write(dir: string, name: string, content: unknown[] | object): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    Array.isArray(content) ? content.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n' : JSON.stringify(content, null, 2),
  );
  return file;
}

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('import into a running Carewall', () => {
  let s: TestServer;
  let dir: string;
  let doctor: string;
  let stranger: string;
  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    dir = tempDir('carewall-import-');
    doctor = await s.login(['physician'], 'dr-imported');
    stranger = await s.login(['physician'], 'dr-elsewhere');
  });
  after(async () => {
    await s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const importLeaves = async () => {
    const { size } = await s.cw.audit.log.head();
    return (await s.cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf)).filter((r) => r.action === 'import');
  };

  test('a transaction Bundle, a collection Bundle and NDJSON, referring to each other, load with their ids and read back', async () => {
    // The NDJSON comes first and names a patient the Bundle after it brings.
    const ndjson = write(dir, 'Observation.ndjson', [observation('obs-imp-1', 'pat-imp-1', 61), '', observation('obs-imp-2', 'pat-imp-1', 64)]);
    const transaction = write(dir, 'clinic.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'https://old-ehr.example/Patient/pat-imp-1',
          resource: {
            resourceType: 'Patient',
            id: 'pat-imp-1',
            name: [{ family: 'Importata' }],
            generalPractitioner: [{ reference: s.practitionerOf(doctor) }],
          },
          request: { method: 'PUT', url: 'Patient/pat-imp-1' },
        },
        // No id: it gets one, and the Encounter's urn:uuid reference follows it.
        {
          fullUrl: 'urn:uuid:4f2f4b1e-1111-4c8e-9d1e-000000000001',
          resource: { resourceType: 'Patient', name: [{ family: 'Newcomer' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: {
            resourceType: 'Encounter',
            id: 'enc-imp-1',
            status: 'finished',
            class: { code: 'AMB' },
            subject: { reference: 'urn:uuid:4f2f4b1e-1111-4c8e-9d1e-000000000001' },
          },
          request: { method: 'POST', url: 'Encounter' },
        },
      ],
    });
    const collection = write(dir, 'conditions.json', {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: { resourceType: 'Condition', id: 'cond-imp-1', subject: { reference: 'Patient/pat-imp-1' }, code: { text: 'hypertension' } } }],
    });

    // On a worker thread, as large imports validate (small ones validate inline, as the tests below).
    const summary = await importFiles(s.cw, [ndjson, transaction, collection], { workers: 1 });
    assert.equal(summary.resources, 6);
    assert.deepEqual(summary.byType, { Observation: 2, Patient: 2, Encounter: 1, Condition: 1 });
    assert.deepEqual(
      summary.files.map((f) => [f.name, f.resources, f.sha256]),
      [
        ['Observation.ndjson', 2, sha256(ndjson)],
        ['clinic.json', 3, sha256(transaction)],
        ['conditions.json', 1, sha256(collection)],
      ],
    );

    // Read back through the API with the ids the files gave; the access rules know the imported
    // patient's physician (and nobody else).
    const obs = await call(s.url, 'GET', '/fhir/Observation/obs-imp-1', { token: doctor });
    assert.equal(obs.status, 200);
    assert.equal(obs.body.subject.reference, 'Patient/pat-imp-1');
    const search = await call(s.url, 'GET', '/fhir/Observation?patient=pat-imp-1', { token: doctor });
    assert.deepEqual(search.body.entry.map((e: { resource: { id: string } }) => e.resource.id).sort(), ['obs-imp-1', 'obs-imp-2']);
    assert.equal((await call(s.url, 'GET', '/fhir/Condition/cond-imp-1', { token: doctor })).status, 200);
    assert.equal((await call(s.url, 'GET', '/fhir/Observation/obs-imp-1', { token: stranger })).status, 403);
    const encounter = await s.cw.fhir.read(SYSTEM, 'Encounter', 'enc-imp-1');
    const newcomer = (encounter.resource as { subject: { reference: string } }).subject.reference;
    assert.match(newcomer, /^Patient\/[0-9a-f-]{36}$/);
    assert.equal((await s.cw.fhir.read(SYSTEM, 'Patient', newcomer.slice('Patient/'.length))).resource?.resourceType, 'Patient');

    // One audit record for the whole import: the system, counts, and each file's SHA-256.
    const records = await importLeaves();
    assert.equal(records.length, 1);
    assert.equal(records[0].outcome, 'success');
    assert.equal(records[0].user?.username, 'system');
    const explained = records[0].explanation as { resources: number; files: Array<{ name: string; sha256: string }> };
    assert.equal(explained.resources, 6);
    assert.deepEqual(
      explained.files.map((f) => f.sha256),
      [sha256(ndjson), sha256(transaction), sha256(collection)],
    );
  });

  test('one invalid resource imports nothing, and its file and line are named', async () => {
    const file = write(dir, 'bad.ndjson', [
      observation('obs-bad-1', 'pat-imp-1', 70),
      observation('obs-bad-2', 'pat-imp-1', 71),
      { ...observation('obs-bad-3', 'pat-imp-1', 72), valueQuantity: { value: 'seventy-two' } },
      observation('obs-bad-4', 'pat-imp-1', 73),
    ]);
    await assert.rejects(() => importFiles(s.cw, [file], { workers: 1 }), /bad\.ndjson:3: .*nothing was imported/);
    for (const id of ['obs-bad-1', 'obs-bad-2', 'obs-bad-4']) await assert.rejects(() => s.cw.fhir.read(SYSTEM, 'Observation', id), /not found/);
    const broken = write(dir, 'broken.ndjson', [observation('obs-bad-5', 'pat-imp-1', 70), '{"resourceType": "Observation",']);
    await assert.rejects(() => importFiles(s.cw, [broken]), /broken\.ndjson:2: not valid JSON/);
    await assert.rejects(() => s.cw.fhir.read(SYSTEM, 'Observation', 'obs-bad-5'), /not found/);
    const failures = (await importLeaves()).filter((r) => r.outcome === 'failure');
    assert.equal(failures.length, 2);
    assert.match(JSON.stringify(failures[0].explanation), /bad\.ndjson:3/);
  });

  test('what cannot be kept exactly is refused, naming the line: invalid UTF-8, a 30-digit decimal, a __proto__ member', async () => {
    const good = JSON.stringify(observation('obs-exact-1', 'pat-imp-1', 70));
    const lines = {
      'utf8.ndjson': (() => {
        const text = Buffer.from(`${good}\n${JSON.stringify(observation('obs-exact-2', 'pat-imp-1', 71))}\n`);
        const at = text.lastIndexOf('final');
        text[at] = 0xff; // a byte that is no UTF-8 at all, inside a string
        return text;
      })(),
      'decimal.ndjson': Buffer.from(
        `${good}\n${JSON.stringify(observation('obs-exact-3', 'pat-imp-1', 72)).replace('"value":72', '"value":123456789012345678901234567890')}\n`,
      ),
      'proto.ndjson': Buffer.from(`${good}\n${JSON.stringify(observation('obs-exact-4', 'pat-imp-1', 73)).replace('{', '{"__proto__":{"x":1},')}\n`),
    };
    for (const [name, bytes] of Object.entries(lines)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      await assert.rejects(() => importFiles(s.cw, [file], { workers: 1 }), new RegExp(`${name.replace('.', '\\.')}.*nothing was imported`), name);
    }
    await assert.rejects(() => s.cw.fhir.read(SYSTEM, 'Observation', 'obs-exact-1'), /not found/);
  });

  test('nothing stored is overwritten, and records of an unknown patient are refused', async () => {
    const again = write(dir, 'again.ndjson', [
      observation('obs-new-1', 'pat-imp-1', 80),
      { resourceType: 'Patient', id: 'pat-imp-1', name: [{ family: 'Overwriter' }] },
    ]);
    await assert.rejects(() => importFiles(s.cw, [again]), /Patient\/pat-imp-1 is already stored/);
    const patient = await s.cw.fhir.read(SYSTEM, 'Patient', 'pat-imp-1');
    assert.equal((patient.resource as { name: Array<{ family: string }> }).name[0].family, 'Importata');
    assert.equal(patient.versionId, 1);
    await assert.rejects(() => s.cw.fhir.read(SYSTEM, 'Observation', 'obs-new-1'), /not found/);

    const twice = write(dir, 'twice.ndjson', [observation('obs-twice', 'pat-imp-1', 1), observation('obs-twice', 'pat-imp-1', 2)]);
    await assert.rejects(() => importFiles(s.cw, [twice]), /Observation\/obs-twice is given twice/);

    const orphan = write(dir, 'orphan.ndjson', [observation('obs-orphan-1', 'nobody-here', 1)]);
    await assert.rejects(() => importFiles(s.cw, [orphan]), /neither stored nor imported, among them Patient\/nobody-here/);
    await assert.rejects(() => s.cw.fhir.read(SYSTEM, 'Observation', 'obs-orphan-1'), /not found/);
  });

  test('a Bundle entry that is not a store is refused', async () => {
    const file = write(dir, 'delete.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'DELETE', url: 'Patient/pat-imp-1' }, resource: { resourceType: 'Patient' } }],
    });
    await assert.rejects(() => importFiles(s.cw, [file]), /delete\.json: entry 0: a DELETE entry/);
    const searchset = write(dir, 'searchset.json', { resourceType: 'Bundle', type: 'searchset', entry: [] });
    await assert.rejects(() => importFiles(s.cw, [searchset]), /only transaction, batch and collection/);
  });
});

describe('carewall import on the command line', () => {
  test('imports into an installation and prints the counts; while a server holds the folder, the server imports', async () => {
    const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } });
    const env = { DATABASE_URL: inst.databaseUrl };
    const dir = tempDir('carewall-import-cli-');
    try {
      const patients = write(dir, 'Patient.ndjson', [{ resourceType: 'Patient', id: 'cli-pat-1', name: [{ family: 'Clinique' }] }]);
      const obs = write(dir, 'Observation.ndjson', [observation('cli-obs-1', 'cli-pat-1', 60), observation('cli-obs-2', 'cli-pat-1', 62)]);
      const ok = await runCli(['import', '--data-dir', inst.dataDir, '--json', patients, obs], { env });
      assert.equal(ok.code, 0, ok.stderr);
      const summary = JSON.parse(ok.stdout) as { resources: number; byType: Record<string, number> };
      assert.deepEqual([summary.resources, summary.byType], [3, { Patient: 1, Observation: 2 }]);

      const bad = write(dir, 'bad.ndjson', [observation('cli-obs-3', 'cli-pat-1', 60), { resourceType: 'Observation', id: 'cli-obs-4' }]);
      const refused = await runCli(['import', '--data-dir', inst.dataDir, bad], { env });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /bad\.ndjson:2: .*nothing was imported/);

      // A server holding the installation (the embedded database is one process's): the command is
      // handed to the server, which imports (issue 24).
      const { startCli } = await import('./helpers/cli.js');
      const server = await startCli(['start', '--data-dir', inst.dataDir, '--port', '0'], env);
      try {
        const more = write(dir, 'more.ndjson', [observation('cli-obs-5', 'cli-pat-1', 66)]);
        const during = await runCli(['import', '--data-dir', inst.dataDir, more], { env });
        assert.equal(during.code, 0, during.stderr);
        assert.match(during.stdout, /Imported 1 resources/);
      } finally {
        await server.kill('SIGTERM');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await inst.cleanup();
    }
  });
});
