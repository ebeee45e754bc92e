/**
 * The access rules as a table: every role × two patients (one the clinic's staff are related to,
 * one nobody is) × resource types × interactions. Each cell is asked over HTTP and must answer as
 * the table says; search and history must agree with read (a search never shows what a read
 * refuses, and counts only what it shows).
 *
 * Patient "related" (P1): a CareTeam names the physician; an in-progress Encounter on ward W (the
 * nurse's ward) names the physician; an active lab order is assigned to the lab department.
 * Patient "unrelated" (P2): the same kinds of records, but no relationship to anyone here.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM, type Role } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

type User = 'physician' | 'otherPhysician' | 'nurse' | 'receptionist' | 'billing' | 'lab' | 'privacyOfficer' | 'bioEngineer' | 'securityAdmin' | 'admin';
type Which = 'related' | 'unrelated';
const TYPES = ['Patient', 'Encounter', 'Observation', 'Condition', 'DocumentReference', 'Appointment', 'ServiceRequest', 'DiagnosticReport'] as const;
type Type = (typeof TYPES)[number];
const ALL: readonly Type[] = TYPES;

const ROLE_OF: Record<User, Role> = {
  physician: 'physician',
  otherPhysician: 'physician',
  nurse: 'nurse',
  receptionist: 'receptionist',
  billing: 'billing',
  lab: 'lab',
  privacyOfficer: 'privacy-officer',
  bioEngineer: 'biomedical-engineer',
  securityAdmin: 'security-admin',
  admin: 'admin',
};

/** What each user may read, per patient. */
const READ: Record<User, Record<Which, readonly Type[]>> = {
  physician: { related: ALL, unrelated: [] },
  otherPhysician: { related: [], unrelated: [] },
  nurse: { related: ALL, unrelated: [] },
  receptionist: { related: ['Patient', 'Appointment'], unrelated: ['Patient', 'Appointment'] },
  billing: { related: ['Patient', 'Encounter', 'Condition'], unrelated: ['Patient', 'Encounter', 'Condition'] },
  lab: { related: ['Patient', 'ServiceRequest', 'DiagnosticReport'], unrelated: [] },
  privacyOfficer: { related: [], unrelated: [] },
  bioEngineer: { related: [], unrelated: [] },
  securityAdmin: { related: [], unrelated: [] },
  admin: { related: [], unrelated: [] },
};

/** Types a role may search at all (whose results are then filtered); others answer 403. */
const SEARCHABLE: Record<User, readonly Type[]> = {
  physician: ALL,
  otherPhysician: ALL,
  nurse: ALL,
  // Only through an investigation, but the search itself is allowed and finds nothing without one.
  privacyOfficer: ALL,
  receptionist: ['Patient', 'Appointment'],
  billing: ['Patient', 'Encounter', 'Condition'],
  lab: ['Patient', 'ServiceRequest', 'Observation', 'DiagnosticReport'],
  bioEngineer: [],
  securityAdmin: [],
  admin: [],
};

/** What each user may update (PUT of the stored resource). */
const UPDATE: Record<User, Record<Which, readonly Type[]>> = {
  ...emptyTable(),
  physician: { related: ALL, unrelated: [] },
  nurse: { related: ALL, unrelated: [] },
  receptionist: { related: ['Patient', 'Appointment'], unrelated: ['Patient', 'Appointment'] },
  lab: { related: ['ServiceRequest', 'DiagnosticReport'], unrelated: [] },
};

/** What each user may create in the patient's chart (a copy of the stored resource). A new Patient is a registration. */
const CREATE: Record<User, Record<Which, readonly Type[]>> = {
  ...emptyTable(),
  physician: { related: ALL, unrelated: ['Patient'] },
  otherPhysician: { related: ['Patient'], unrelated: ['Patient'] },
  nurse: { related: ALL, unrelated: ['Patient'] },
  receptionist: { related: ['Patient', 'Appointment'], unrelated: ['Patient', 'Appointment'] },
  // The copy of the report names the order assigned to the lab; an Observation copy names none.
  lab: { related: ['DiagnosticReport'], unrelated: [] },
};

const DELETE: Record<User, Record<Which, readonly Type[]>> = {
  ...emptyTable(),
  physician: { related: ALL.filter((t) => t !== 'Patient'), unrelated: [] },
  nurse: { related: ALL.filter((t) => t !== 'Patient'), unrelated: [] },
  receptionist: { related: ['Appointment'], unrelated: ['Appointment'] },
};

function emptyTable(): Record<User, Record<Which, readonly Type[]>> {
  return Object.fromEntries(Object.keys(ROLE_OF).map((u) => [u, { related: [], unrelated: [] }])) as unknown as Record<User, Record<Which, readonly Type[]>>;
}

let s: TestServer;
const tokens = {} as Record<User, string>;
const records = {} as Record<Which, Record<Type, Resource & { id: string }>>;

before(async () => {
  s = await startTestServer();
  for (const user of Object.keys(ROLE_OF) as User[]) tokens[user] = await s.login([ROLE_OF[user]], user.toLowerCase());
  const make = async <T extends Resource>(body: T) => (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as T & { id: string };
  const ref = (r: { resourceType: string; id: string }) => ({ reference: `${r.resourceType}/${r.id}` });

  const lab = await make({ resourceType: 'Organization', name: 'Laboratory' });
  const ward = await make({ resourceType: 'Location', name: 'Ward W' });
  await make({ resourceType: 'PractitionerRole', practitioner: { reference: s.practitionerOf(tokens.nurse) }, location: [ref(ward)] });
  await make({ resourceType: 'PractitionerRole', practitioner: { reference: s.practitionerOf(tokens.lab) }, organization: ref(lab) });
  const physician = { reference: s.practitionerOf(tokens.physician) };

  for (const which of ['related', 'unrelated'] as const) {
    const related = which === 'related';
    const patient = await make({ resourceType: 'Patient', name: [{ family: related ? 'Tablerow' : 'Strangerow', given: ['Ida'] }], birthDate: '1970-01-01' });
    const subject = ref(patient);
    if (related) await make({ resourceType: 'CareTeam', status: 'active', subject, participant: [{ member: physician }] });
    const encounter = await make({
      resourceType: 'Encounter',
      status: related ? 'in-progress' : 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
      subject,
      ...(related ? { participant: [{ individual: physician }], location: [{ location: ref(ward), status: 'active' as const }] } : {}),
      period: related ? { start: '2026-01-01T08:00:00Z' } : { start: '2019-01-01T08:00:00Z', end: '2019-01-02T08:00:00Z' },
    });
    const order = await make({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject,
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
      ...(related ? { performer: [ref(lab)] } : {}),
    });
    records[which] = {
      Patient: patient,
      Encounter: encounter,
      Observation: await make({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject,
        valueQuantity: { value: 70 },
      }),
      Condition: await make({ resourceType: 'Condition', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] } }),
      DocumentReference: await make({
        resourceType: 'DocumentReference',
        status: 'current',
        subject,
        content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('note').toString('base64') } }],
      }),
      Appointment: await make({
        resourceType: 'Appointment',
        status: 'booked',
        start: '2030-01-01T09:00:00Z',
        end: '2030-01-01T09:20:00Z',
        participant: [{ actor: subject, status: 'accepted' }],
      }),
      ServiceRequest: order,
      DiagnosticReport: await make({
        resourceType: 'DiagnosticReport',
        status: 'final',
        basedOn: [ref(order)],
        subject,
        code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
      }),
    };
  }
});

after(() => s?.close());

const users = Object.keys(ROLE_OF) as User[];

for (const user of users) {
  test(`${user}: read, vread, history, search and compartment search agree with the table`, async () => {
    const failures: string[] = [];
    for (const which of ['related', 'unrelated'] as const) {
      for (const type of TYPES) {
        const r = records[which][type];
        const may = READ[user][which].includes(type);
        const want = may ? 200 : 403;
        const cell = `${user} ${which} ${type}`;
        const check = (what: string, got: number, expected: number) => {
          if (got !== expected) failures.push(`${cell} ${what}: ${got}, expected ${expected}`);
        };
        check('read', (await call(s.url, 'GET', `/fhir/${type}/${r.id}`, { token: tokens[user] })).status, want);
        check('vread', (await call(s.url, 'GET', `/fhir/${type}/${r.id}/_history/1`, { token: tokens[user] })).status, want);
        check('history', (await call(s.url, 'GET', `/fhir/${type}/${r.id}/_history`, { token: tokens[user] })).status, want);

        const roleMayRead = SEARCHABLE[user].includes(type);
        const search = await call(s.url, 'GET', `/fhir/${type}?_id=${r.id}`, { token: tokens[user] });
        const typeHistory = await call(s.url, 'GET', `/fhir/${type}/_history?_count=1000`, { token: tokens[user] });
        if (!roleMayRead) {
          check('search (type not readable by the role)', search.status, 403);
          check('type history (type not readable by the role)', typeHistory.status, 403);
          continue;
        }
        check('search', search.status, 200);
        if (search.body?.total !== (may ? 1 : 0)) failures.push(`${cell} search total ${search.body?.total}, expected ${may ? 1 : 0}`);
        if ((search.body?.entry ?? []).length !== (may ? 1 : 0)) failures.push(`${cell} search entries`);
        // A page across patients is decided row by row where the rows are few (records/searchByRows.ts);
        // a count alone is the general set predicate's: both must agree with the table.
        const counted = await call(s.url, 'GET', `/fhir/${type}?_id=${r.id}&_summary=count`, { token: tokens[user] });
        if (counted.body?.total !== (may ? 1 : 0)) failures.push(`${cell} search count ${counted.body?.total}, expected ${may ? 1 : 0}`);
        // The same row through a search confined to its patient (a compartment search): the rule
        // is then that patient's (AccessPolicy.pinnedPredicate), not the general set predicate.
        if (type !== 'Patient') {
          const inChart = await call(s.url, 'GET', `/fhir/Patient/${records[which].Patient.id}/${type}?_id=${r.id}`, { token: tokens[user] });
          check('search in the patient compartment', inChart.status, 200);
          if (inChart.body?.total !== (may ? 1 : 0)) failures.push(`${cell} compartment search total ${inChart.body?.total}, expected ${may ? 1 : 0}`);
        }
        const inHistory = (typeHistory.body?.entry ?? []).some((e: { resource?: { id?: string } }) => e.resource?.id === r.id);
        if (inHistory !== may) failures.push(`${cell} type history shows it: ${inHistory}, expected ${may}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  test(`${user}: update, create and delete agree with the table`, async () => {
    const failures: string[] = [];
    for (const which of ['related', 'unrelated'] as const) {
      for (const type of TYPES) {
        const cell = `${user} ${which} ${type}`;
        const stored = records[which][type];
        const current = (await s.cw.fhir.read(SYSTEM, type, stored.id)).resource as Resource & { id: string };
        const put = await call(s.url, 'PUT', `/fhir/${type}/${stored.id}`, { token: tokens[user], body: current });
        const wantPut = UPDATE[user][which].includes(type) ? 200 : 403;
        if (put.status !== wantPut) failures.push(`${cell} update: ${put.status}, expected ${wantPut}`);

        const { id: _id, meta: _meta, ...copy } = current;
        const post = await call(s.url, 'POST', `/fhir/${type}`, { token: tokens[user], body: copy });
        const wantPost = CREATE[user][which].includes(type) ? 201 : 403;
        if (post.status !== wantPost) failures.push(`${cell} create: ${post.status}, expected ${wantPost}`);

        if (type === 'Patient') continue; // a patient with records cannot be deleted by anyone
        const spare = await s.cw.fhir.create(SYSTEM, type, copy);
        const del = await call(s.url, 'DELETE', `/fhir/${type}/${spare.id}`, { token: tokens[user] });
        const wantDelete = DELETE[user][which].includes(type) ? 204 : 403;
        if (del.status !== wantDelete) failures.push(`${cell} delete: ${del.status}, expected ${wantDelete}`);
        // A refused write changed nothing.
        if (wantPut === 403 && (await s.cw.fhir.read(SYSTEM, type, stored.id)).versionId !== Number(current.meta?.versionId))
          failures.push(`${cell} refused update wrote a version`);
      }
    }
    assert.deepEqual(failures, []);
  });
}

test('the clinic directory is readable by every role and writable by the admin only', async () => {
  for (const user of users) {
    const list = await call(s.url, 'GET', '/fhir/Location', { token: tokens[user] });
    assert.equal(list.status, 200, user);
    assert.equal(list.body.total, 1, user);
    const post = await call(s.url, 'POST', '/fhir/Location', { token: tokens[user], body: { resourceType: 'Location', name: `Room of ${user}` } });
    assert.equal(post.status, user === 'admin' ? 201 : 403, user);
  }
});
