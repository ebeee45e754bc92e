/**
 * The demo clinic: staff in every role who can log in, patients whose clinical records are reachable
 * through the FHIR API by the usual searches, references that resolve, and the same clinic from
 * the same seed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROLES, SYSTEM } from '../src/shared/index.js';
import { generateClinic } from '../src/demo/clinic.js';
import { generatePatient, MRN_SYSTEM } from '../src/demo/patientRecord.js';
import { demoFaker, isClinicSeeded, seedDemoClinic, type SeedResult } from '../src/demo/seed.js';
import { createLogger } from '../src/log.js';
import { SUPPORTED_TYPES } from '../src/shared/resourceTypes.js';
import { openCarewall, type Carewall } from '../src/runtime.js';
import { call, currentOtp, prepareInstallation, startTestServer, type TestServer } from './helpers/harness.js';

const PATIENTS = 20;
const SEED = 2026;
const DAY = new Date('2026-01-15T00:00:00Z');
const TOTP_ROLES = ['privacy-officer', 'security-admin', 'awareness-officer', 'admin'];

async function everything(cw: Carewall, type: string): Promise<any[]> {
  const bundle = await cw.fhir.search(SYSTEM, type, { _count: ['1000'] }, new URL(`http://localhost/fhir/${type}`));
  assert.ok((bundle.total ?? 0) <= 1000, 'the test reads every resource of a type in one page');
  return (bundle.entry ?? []).map((e) => e.resource);
}

async function patientNamesByMrn(cw: Carewall): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of await everything(cw, 'Patient')) out.set(p.identifier[0].value, `${p.name[0].given.join(' ')} ${p.name[0].family}`);
  return out;
}

describe('demo clinic seeding', () => {
  let s: TestServer;
  let seeded: SeedResult;
  let token: string;
  const fhir = (path: string) => call(s.url, 'GET', `/fhir${path}`, { token });

  before(async () => {
    s = await startTestServer();
    assert.equal(await isClinicSeeded(s.cw), false);
    const progress: number[] = [];
    seeded = await seedDemoClinic(s.cw, { patients: PATIENTS, seed: SEED, referenceDate: DAY, onProgress: (done, total) => progress.push(done, total) });
    assert.equal(seeded.patientCount, PATIENTS);
    assert.deepEqual(progress.slice(-2), [PATIENTS, PATIENTS], 'progress reaches the total');
    token = await s.login(['physician']);
  });
  after(() => s.close());

  test('staff: a login per staff member, every role present, each linked to its Practitioner and PractitionerRole', async () => {
    assert.equal(await isClinicSeeded(s.cw), true);
    assert.ok(seeded.logins.length >= 15 && seeded.logins.length <= 25, `about twenty staff, got ${seeded.logins.length}`);
    assert.deepEqual(new Set(seeded.logins.flatMap((l) => l.roles)), new Set(ROLES));
    assert.equal(new Set(seeded.logins.map((l) => l.username)).size, seeded.logins.length, 'usernames are unique');
    const roles = await everything(s.cw, 'PractitionerRole');
    for (const l of seeded.logins) {
      assert.match(l.username, /^[a-z0-9.-]+$/);
      assert.ok(l.password.length >= 10);
      assert.equal(
        Boolean(l.totpUri),
        l.roles.some((r) => TOTP_ROLES.includes(r)),
        `${l.username}: second factor exactly for ${TOTP_ROLES.join(', ')}`,
      );
      const [, id] = l.practitioner.split('/');
      const practitioner = (await s.cw.fhir.read(SYSTEM, 'Practitioner', id)).resource as any;
      assert.ok(practitioner.name[0].family);
      const role = roles.find((r) => r.practitioner.reference === l.practitioner);
      assert.ok(role, `${l.username} has a PractitionerRole`);
      assert.ok(role.code[0].coding.some((c: any) => c.system === 'urn:carewall:role' && c.code === l.roles[0]));
    }
    const accounts = await s.cw.identity.listAccounts();
    for (const l of seeded.logins) {
      const account = accounts.find((a) => a.username === l.username);
      assert.deepEqual(account?.roles, l.roles);
      assert.equal(account?.practitioner, l.practitioner);
    }
    const physicians = (await fhir('/PractitionerRole?role=urn:carewall:role|physician')).body;
    assert.equal(physicians.total, seeded.logins.filter((l) => l.roles.includes('physician')).length);
    const wards = (await fhir('/Location?name=ward')).body;
    assert.ok(wards.total >= 3);
    assert.ok(wards.entry.some((e: any) => e.resource.name === 'Ward A - Internal medicine' && e.resource.physicalType.coding[0].code === 'wa'));
  });

  test('the demo clinic’s posture is realistic and imperfect, with a trend that rises over its seeded history', async () => {
    const history = await s.cw.posture.history(SYSTEM);
    assert.ok(history.length >= 10, `a snapshot every five days over two months (${history.length})`);
    assert.ok(history.at(-1)!.inPlace > history[0].inPlace, `the trend rises: ${history.map((h) => h.inPlace).join(', ')}`);
    const card = await s.cw.posture.scorecard(SYSTEM, new Date(history.at(-1)!.at));
    assert.ok(card.summary.inPlace < card.summary.total, 'not everything is in place');
    const statuses = new Set(card.practices.flatMap((p) => p.items.map((i) => i.status)));
    assert.ok(statuses.has('compliant') && statuses.has('missing'), [...statuses].join(', '));
    assert.ok(
      card.practices.flatMap((p) => p.items).some((i) => i.source === 'attested' && i.status !== 'missing'),
      'some items are attested by their owners',
    );
  });

  test('every demo login can log in (with its second factor where the role requires one)', async () => {
    for (const l of seeded.logins) {
      const otp = l.totpUri ? currentOtp(l.totpUri) : undefined;
      const res = await call(s.url, 'POST', '/api/session', {
        body: { username: l.username, password: l.password, otp },
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 201, `${l.username} (${l.roles.join(',')}): ${JSON.stringify(res.body)}`);
      // Roles with patient data may search patients (finding only whom they may see); the others may not.
      const mayReadPatients = l.roles.some((r) => !['admin', 'security-admin', 'biomedical-engineer', 'awareness-officer'].includes(r));
      assert.equal((await call(s.url, 'GET', '/fhir/Patient?_summary=count', { token: res.body.token })).status, mayReadPatients ? 200 : 403, l.username);
    }
  });

  test('patients are found by identifier and by family-name prefix; their clinical data by patient', async () => {
    // The front desk finds any patient; the patient's general practitioner reads the chart.
    const desk = seeded.logins.find((l) => l.roles.includes('receptionist'))!;
    token = (
      await call(s.url, 'POST', '/api/session', { body: { username: desk.username, password: desk.password }, headers: { 'content-type': 'application/json' } })
    ).body.token;
    const all = (await fhir('/Patient?_summary=count')).body;
    assert.equal(all.total, PATIENTS);
    const byMrn = (await fhir(`/Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|MRN-000001`)}`)).body;
    assert.equal(byMrn.total, 1);
    const p = byMrn.entry[0].resource;
    assert.equal((await fhir('/Patient?identifier=MRN-000001')).body.entry[0].resource.id, p.id, 'value-only identifier search');
    assert.match(p.birthDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(p.address[0].line[0] && p.address[0].city && p.telecom[0].value && p.gender);
    const byFamily = (await fhir(`/Patient?family=${encodeURIComponent(p.name[0].family.slice(0, 4))}&_count=100`)).body;
    assert.ok(
      byFamily.entry.some((e: any) => e.resource.id === p.id),
      'family name prefix finds the patient',
    );
    assert.ok(
      (await fhir(`/Patient?name=${encodeURIComponent(`${p.name[0].given[0]} ${p.name[0].family}`)}`)).body.entry.some((e: any) => e.resource.id === p.id),
    );
    assert.equal((await fhir(`/Observation?patient=${p.id}`)).status, 403, 'the front desk sees no clinical data');

    const gp = seeded.logins.find((l) => l.practitioner === p.generalPractitioner[0].reference)!;
    token = (
      await call(s.url, 'POST', '/api/session', { body: { username: gp.username, password: gp.password }, headers: { 'content-type': 'application/json' } })
    ).body.token;

    const vitals = (await fhir(`/Observation?patient=Patient/${p.id}&_count=100`)).body;
    assert.ok(vitals.total >= 4, 'vital signs at every visit');
    for (const e of vitals.entry) {
      const o = e.resource;
      assert.equal(o.category[0].coding[0].code, 'vital-signs');
      assert.ok(['29463-7', '8867-4', '85354-9', '8310-5'].includes(o.code.coding[0].code));
      if (o.code.coding[0].code === '85354-9') assert.equal(o.component.length, 2);
      else assert.equal(o.valueQuantity.system, 'http://unitsofmeasure.org');
    }
    assert.ok((await fhir(`/Observation?patient=${p.id}&code=http://loinc.org|8867-4`)).body.total >= 1);
    for (const type of ['Encounter', 'CareTeam', 'DocumentReference']) {
      assert.ok((await fhir(`/${type}?patient=Patient/${p.id}`)).body.total >= 1, `${type} for the patient`);
    }
    const note = (await fhir(`/DocumentReference?patient=${p.id}`)).body.entry[0].resource;
    assert.equal(note.content[0].attachment.contentType, 'text/plain');
    assert.match(Buffer.from(note.content[0].attachment.data, 'base64').toString('utf8'), /Vital signs: BP \d+\/\d+ mmHg/);
  });

  test('the clinic as a whole has every kind of record, and every reference resolves', async () => {
    const ids = new Set<string>();
    const references: Array<{ from: string; to: string }> = [];
    for (const type of SUPPORTED_TYPES) {
      if (type === 'Consent') continue; // the demo records no consents
      const resources = await everything(s.cw, type);
      assert.ok(resources.length > 0, `the demo has ${type} resources`);
      for (const r of resources) {
        ids.add(`${type}/${r.id}`);
        JSON.stringify(r, (key, value) => {
          if (key === 'reference' && typeof value === 'string') references.push({ from: `${type}/${r.id}`, to: value });
          return value;
        });
      }
    }
    assert.ok(references.length > PATIENTS * 20);
    for (const { from, to } of references) assert.ok(ids.has(to), `${from} references ${to}, which does not exist`);
    const encounters = await everything(s.cw, 'Encounter');
    assert.ok(
      encounters.every((e) => e.participant[0].individual.reference.startsWith('Practitioner/') && e.location[0].location.reference.startsWith('Location/')),
    );
    assert.ok(encounters.every((e) => ['finished', 'in-progress'].includes(e.status)));
    const conditions = await everything(s.cw, 'Condition');
    assert.ok(
      conditions.every((c) => c.code.coding.some((x: any) => ['http://snomed.info/sct', 'http://hl7.org/fhir/sid/icd-10'].includes(x.system)) && c.code.text),
    );
    const prescriptions = await everything(s.cw, 'MedicationRequest');
    assert.ok(
      prescriptions.every((m) => m.intent === 'order' && m.medicationCodeableConcept.coding[0].system === 'http://www.nlm.nih.gov/research/umls/rxnorm'),
    );
  });

  test('the same seed gives the same clinic; another seed gives another', async () => {
    const inst = await prepareInstallation();
    const other = await openCarewall(inst.settings, createLogger('silent'));
    try {
      const again = await seedDemoClinic(other, { patients: 5, seed: SEED, referenceDate: DAY });
      assert.deepEqual(
        again.logins.map((l) => l.username),
        seeded.logins.map((l) => l.username),
      );
      const first = await patientNamesByMrn(s.cw);
      const second = await patientNamesByMrn(other);
      assert.equal(second.size, 5);
      for (const [mrn, name] of second) assert.equal(first.get(mrn), name, `${mrn} has the same name from the same seed`);
    } finally {
      await other.close();
      await inst.cleanup();
    }
    const names = (seed: number) => {
      const faker = demoFaker(seed, DAY);
      const clinic = generateClinic(faker);
      return Array.from({ length: 5 }, (_, i) => generatePatient(faker, clinic, i + 1, DAY).patient.name![0].family);
    };
    assert.deepEqual(names(SEED), names(SEED));
    assert.notDeepEqual(names(SEED + 1), names(SEED));
  });
});
