/**
 * Care relationships as a table: each kind of relationship (care team, encounter, appointment,
 * order, episode of care, general practitioner, ward, department) in each of its states, and
 * whether it gives access. Every row is checked twice, by reading the patient (and one of their
 * Observations) and by searching that patient's Observations: read and search must agree.
 *
 * Then: restricted patients, revocation taking effect at once, sensitive labels, Consents and the
 * non-clinical roles (reception, billing, lab).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Reference, Resource } from '@medplum/fhirtypes';
import { SYSTEM, type Role } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

type Stored<T extends Resource = Resource> = T & { id: string };

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** An instant relative to now, as a FHIR dateTime. */
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const ENCOUNTER_CLASS = { system: ACT_CODE, code: 'AMB' };
/** Fixed id of the psychiatry department, named in the settings before the server starts. */
const PSYCH = 'dept-psychiatry';

let s: TestServer;
let seq = 0;

async function make<T extends Resource>(body: T): Promise<Stored<T>> {
  return (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Stored<T>;
}
const ref = (r: { resourceType: string; id: string }): Reference => ({ reference: `${r.resourceType}/${r.id}` });

async function newPatient(family: string, extra: Record<string, unknown> = {}): Promise<Stored> {
  return make({
    resourceType: 'Patient',
    identifier: [{ system: 'urn:carewall:test:mrn', value: `MRN-REL-${++seq}` }],
    name: [{ family, given: ['Rowena'] }],
    birthDate: '1966-06-16',
    ...extra,
  } as Resource);
}

function labelled(patientId: string, code?: string): Resource {
  const o = observation(patientId) as Resource;
  return code ? ({ ...o, meta: { security: [{ system: ACT_CODE, code }] } } as Resource) : o;
}

/** A user: a token for a new account (linked to a new Practitioner) and that Practitioner. */
async function user(role: Role, name = `${role}-rel-${++seq}`): Promise<{ token: string; me: Reference; username: string }> {
  const token = await s.login([role], name);
  return { token, me: { reference: s.practitionerOf(token) }, username: name };
}

/** What a read and a search of the patient's Observations show: both must agree with `expect`. */
async function observe(token: string, patientId: string, observationId: string) {
  const patient = await call(s.url, 'GET', `/fhir/Patient/${patientId}`, { token });
  const obs = await call(s.url, 'GET', `/fhir/Observation/${observationId}`, { token });
  const search = await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}`, { token });
  return { patient: patient.status, observation: obs.status, searchStatus: search.status, total: search.body?.total as number | undefined, search };
}

function assertAccess(got: Awaited<ReturnType<typeof observe>>, expect: 200 | 403, what: string) {
  assert.equal(got.patient, expect, `${what}: read Patient`);
  assert.equal(got.observation, expect, `${what}: read Observation`);
  assert.equal(got.searchStatus, 200, `${what}: search status`);
  assert.equal(got.total, expect === 200 ? 1 : 0, `${what}: search total`);
  assert.equal((got.search.body?.entry ?? []).length, expect === 200 ? 1 : 0, `${what}: search entries`);
}

before(async () => {
  s = await startTestServer({ access: { sensitiveByDepartment: { [`Organization/${PSYCH}`]: ['PSY'] } } });
  // The psychiatry department with the id the settings name (created as the demo seed does, with its id).
  await s.cw.fhir.commit([await s.cw.fhir.prepareCreate(SYSTEM, { resourceType: 'Organization', name: 'Psychiatry' }, 'Organization', PSYCH)]);
});

after(() => s?.close());

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

interface Ctx {
  patient: Stored;
  subject: Reference;
  /** The user under test, as a reference to their Practitioner. */
  me: Reference;
}

interface Row {
  name: string;
  user: 'physician' | 'nurse';
  /** Extra Patient elements (restriction labels). */
  patient?: Record<string, unknown>;
  build: (ctx: Ctx) => Promise<unknown>;
  expect: 200 | 403;
  /** Further checks once read and search agreed. */
  then?: (ctx: Ctx & { username: string }) => Promise<void>;
}

const careTeam = (ctx: Ctx, extra: Record<string, unknown> = {}, participant: Record<string, unknown> = {}) =>
  make({ resourceType: 'CareTeam', status: 'active', subject: ctx.subject, participant: [{ member: ctx.me, ...participant }], ...extra } as Resource);

const enc = (ctx: Ctx, status: string, period: Record<string, string>, extra: Record<string, unknown> = {}) =>
  make({
    resourceType: 'Encounter',
    status,
    class: ENCOUNTER_CLASS,
    subject: ctx.subject,
    participant: [{ individual: ctx.me }],
    period,
    ...extra,
  } as Resource);

const appointment = (ctx: Ctx, status: string, start: string, end: string) =>
  make({
    resourceType: 'Appointment',
    status,
    start,
    end,
    participant: [
      { actor: ctx.subject, status: 'accepted' },
      { actor: ctx.me, status: 'accepted' },
    ],
  } as Resource);

const order = (ctx: Ctx, status: string, performer: Reference) =>
  make({ resourceType: 'ServiceRequest', status, intent: 'order', subject: ctx.subject, code: { text: 'referral' }, performer: [performer] } as Resource);

const episode = (ctx: Ctx, status: string, extra: Record<string, unknown>) =>
  make({ resourceType: 'EpisodeOfCare', status, patient: ctx.subject, ...extra } as Resource);

/** A ward with the user on its staff (PractitionerRole.location) and the patient's encounter there. */
async function onWard(ctx: Ctx, status: string, opts: { role?: Record<string, unknown>; locationStatus?: string } = {}) {
  const ward = await make({ resourceType: 'Location', name: `Ward ${++seq}` } as Resource);
  await make({ resourceType: 'PractitionerRole', practitioner: ctx.me, location: [ref(ward)], ...opts.role } as Resource);
  const period = status === 'finished' ? { start: at(-2 * DAY), end: at(-1 * DAY) } : { start: at(-2 * HOUR) };
  await make({
    resourceType: 'Encounter',
    status,
    class: { system: ACT_CODE, code: 'IMP' },
    subject: ctx.subject,
    location: [{ location: ref(ward), status: opts.locationStatus ?? 'active' }],
    period,
  } as Resource);
}

const ROWS: Row[] = [
  // Care team
  { name: 'CareTeam active, user a member', user: 'physician', build: (c) => careTeam(c), expect: 200 },
  {
    name: 'CareTeam whose period has ended',
    user: 'physician',
    build: (c) => careTeam(c, { period: { start: at(-60 * DAY), end: at(-1 * DAY) } }),
    expect: 403,
  },
  { name: 'CareTeam inactive', user: 'physician', build: (c) => careTeam(c, { status: 'inactive' }), expect: 403 },
  {
    name: "CareTeam active, the user's participation ended",
    user: 'physician',
    build: (c) => careTeam(c, {}, { period: { start: at(-60 * DAY), end: at(-1 * DAY) } }),
    expect: 403,
  },
  { name: 'CareTeam active, participation not yet begun', user: 'physician', build: (c) => careTeam(c, {}, { period: { start: at(2 * DAY) } }), expect: 403 },
  {
    name: 'CareTeam active, the user named through their PractitionerRole',
    user: 'physician',
    build: async (c) => {
      const role = await make({ resourceType: 'PractitionerRole', practitioner: c.me } as Resource);
      return careTeam({ ...c, me: ref(role) });
    },
    expect: 200,
  },

  // Encounter (30 days of follow-up)
  { name: 'Encounter in progress, user a participant', user: 'physician', build: (c) => enc(c, 'in-progress', { start: at(-HOUR) }), expect: 200 },
  { name: 'Encounter finished 10 days ago', user: 'physician', build: (c) => enc(c, 'finished', { start: at(-11 * DAY), end: at(-10 * DAY) }), expect: 200 },
  { name: 'Encounter finished 40 days ago', user: 'physician', build: (c) => enc(c, 'finished', { start: at(-41 * DAY), end: at(-40 * DAY) }), expect: 403 },
  { name: 'Encounter cancelled', user: 'physician', build: (c) => enc(c, 'cancelled', { start: at(-HOUR) }), expect: 403 },
  { name: 'Encounter planned', user: 'physician', build: (c) => enc(c, 'planned', { start: at(2 * DAY) }), expect: 200 },

  // Appointment (72 h before, 24 h after)
  {
    name: 'Appointment booked, starting in 24 h',
    user: 'physician',
    build: (c) => appointment(c, 'booked', at(24 * HOUR), at(24 * HOUR + 30 * 60_000)),
    expect: 200,
  },
  {
    name: 'Appointment booked, starting in 10 days',
    user: 'physician',
    build: (c) => appointment(c, 'booked', at(10 * DAY), at(10 * DAY + 30 * 60_000)),
    expect: 403,
  },
  {
    name: 'Appointment booked, ended 3 days ago',
    user: 'physician',
    build: (c) => appointment(c, 'booked', at(-3 * DAY - 30 * 60_000), at(-3 * DAY)),
    expect: 403,
  },
  { name: 'Appointment booked, ended 12 hours ago', user: 'physician', build: (c) => appointment(c, 'booked', at(-13 * HOUR), at(-12 * HOUR)), expect: 200 },
  {
    name: 'Appointment cancelled, starting in 24 h',
    user: 'physician',
    build: (c) => appointment(c, 'cancelled', at(24 * HOUR), at(24 * HOUR + 30 * 60_000)),
    expect: 403,
  },

  // Orders and referrals
  { name: 'ServiceRequest active, user the performer', user: 'physician', build: (c) => order(c, 'active', c.me), expect: 200 },
  { name: 'ServiceRequest completed', user: 'physician', build: (c) => order(c, 'completed', c.me), expect: 403 },

  // Episode of care
  { name: 'EpisodeOfCare active, user the care manager', user: 'physician', build: (c) => episode(c, 'active', { careManager: c.me }), expect: 200 },
  { name: 'EpisodeOfCare finished', user: 'physician', build: (c) => episode(c, 'finished', { careManager: c.me }), expect: 403 },
  {
    name: 'EpisodeOfCare active, its period ended',
    user: 'physician',
    build: (c) => episode(c, 'active', { careManager: c.me, period: { start: at(-90 * DAY), end: at(-DAY) } }),
    expect: 403,
  },
  {
    name: 'EpisodeOfCare active, care manager named through a PractitionerRole',
    user: 'physician',
    build: async (c) => episode(c, 'active', { careManager: ref(await make({ resourceType: 'PractitionerRole', practitioner: c.me } as Resource)) }),
    expect: 200,
  },
  {
    name: 'EpisodeOfCare active, its team a CareTeam (of another patient) the user belongs to',
    user: 'physician',
    build: async (c) => {
      const other = await newPatient('Elsewhere');
      const team = await make({ resourceType: 'CareTeam', status: 'active', subject: ref(other), participant: [{ member: c.me }] } as Resource);
      return episode(c, 'active', { team: [ref(team)] });
    },
    expect: 200,
  },
  {
    name: 'EpisodeOfCare active, its team a CareTeam the user does not belong to',
    user: 'physician',
    build: async (c) => {
      const other = await newPatient('Elsewhere');
      const colleague = await make({ resourceType: 'Practitioner', name: [{ family: 'Colleague' }] } as Resource);
      const team = await make({ resourceType: 'CareTeam', status: 'active', subject: ref(other), participant: [{ member: ref(colleague) }] } as Resource);
      return episode(c, 'active', { team: [ref(team)] });
    },
    expect: 403,
  },

  // General practitioner
  {
    name: 'Patient.generalPractitioner is the user',
    user: 'physician',
    build: async (c) => s.cw.fhir.update(SYSTEM, 'Patient', c.patient.id, { ...c.patient, generalPractitioner: [c.me] }),
    expect: 200,
  },

  // Ward (nurses only)
  { name: "Ward: nurse on the ward of the patient's in-progress encounter", user: 'nurse', build: (c) => onWard(c, 'in-progress'), expect: 200 },
  { name: 'Ward: physician on that ward (wards count for nurses only)', user: 'physician', build: (c) => onWard(c, 'in-progress'), expect: 403 },
  { name: 'Ward: nurse on the ward, encounter finished', user: 'nurse', build: (c) => onWard(c, 'finished'), expect: 403 },
  {
    name: 'Ward: nurse on the ward, the patient has left it (location completed)',
    user: 'nurse',
    build: (c) => onWard(c, 'in-progress', { locationStatus: 'completed' }),
    expect: 403,
  },
  { name: 'Ward: nurse whose PractitionerRole is inactive', user: 'nurse', build: (c) => onWard(c, 'in-progress', { role: { active: false } }), expect: 403 },
  {
    name: "Ward: nurse whose PractitionerRole's period has ended",
    user: 'nurse',
    build: (c) => onWard(c, 'in-progress', { role: { period: { start: at(-90 * DAY), end: at(-DAY) } } }),
    expect: 403,
  },

  // Department
  {
    name: 'Department: order assigned to the department the physician works in',
    user: 'physician',
    build: async (c) => {
      const dept = await make({ resourceType: 'Organization', name: `Department ${++seq}` } as Resource);
      await make({ resourceType: 'PractitionerRole', practitioner: c.me, organization: ref(dept) } as Resource);
      return order(c, 'active', ref(dept));
    },
    expect: 200,
  },
  {
    name: 'Department: order assigned to another department',
    user: 'physician',
    build: async (c) => {
      const mine = await make({ resourceType: 'Organization', name: `Department ${++seq}` } as Resource);
      const theirs = await make({ resourceType: 'Organization', name: `Department ${++seq}` } as Resource);
      await make({ resourceType: 'PractitionerRole', practitioner: c.me, organization: ref(mine) } as Resource);
      return order(c, 'active', ref(theirs));
    },
    expect: 403,
  },

  // No relationship at all
  { name: 'No relationship', user: 'physician', build: async () => undefined, expect: 403 },

  // Restricted patients: direct relationships only, and every access is flagged for review
  {
    name: 'Restricted patient (V): nurse on the ward only',
    user: 'nurse',
    patient: { meta: { security: [{ system: CONFIDENTIALITY, code: 'V' }] } },
    build: (c) => onWard(c, 'in-progress'),
    expect: 403,
  },
  {
    name: 'Restricted patient (VIP): nurse on the ward only',
    user: 'nurse',
    patient: { meta: { security: [{ system: ACT_CODE, code: 'VIP' }] } },
    build: (c) => onWard(c, 'in-progress'),
    expect: 403,
  },
  {
    name: 'Restricted patient (VIP): department-wide order',
    user: 'physician',
    patient: { meta: { security: [{ system: ACT_CODE, code: 'VIP' }] } },
    build: async (c) => {
      const dept = await make({ resourceType: 'Organization', name: `Department ${++seq}` } as Resource);
      await make({ resourceType: 'PractitionerRole', practitioner: c.me, organization: ref(dept) } as Resource);
      return order(c, 'active', ref(dept));
    },
    expect: 403,
  },
  {
    name: 'Restricted patient (V): care team member, access flagged for review',
    user: 'physician',
    patient: { meta: { security: [{ system: CONFIDENTIALITY, code: 'V' }] } },
    build: (c) => careTeam(c),
    expect: 200,
    then: async (c) => {
      const officer = await s.login(['privacy-officer']);
      const flags = await call(s.url, 'GET', '/api/access/flags?status=unreviewed', { token: officer });
      assert.equal(flags.status, 200);
      const mine = (flags.body.uses as Array<{ username: string; patient: string; kind: string; reviewed: boolean; resource: string }>).filter(
        (u) => u.username === c.username && u.patient === c.patient.id,
      );
      assert.ok(mine.length > 0, 'the access to the restricted patient is in the review queue');
      assert.ok(mine.every((u) => u.kind === 'restricted-patient' && !u.reviewed));
      assert.ok(mine.some((u) => u.resource === `Patient/${c.patient.id}`));
      // A clinician may not look at the queue.
      assert.equal((await call(s.url, 'GET', '/api/access/flags?status=unreviewed', { token: (await user('physician')).token })).status, 403);
    },
  },
];

describe('care relationships: kind × state × access (read and search agree)', () => {
  for (const row of ROWS) {
    test(`${row.name} → ${row.expect}`, async () => {
      const u = await user(row.user);
      const patient = await newPatient('Tabulara', row.patient);
      const obs = await make(observation(patient.id) as Resource);
      const ctx: Ctx = { patient, subject: ref(patient), me: u.me };
      await row.build(ctx);
      assertAccess(await observe(u.token, patient.id, obs.id), row.expect, row.name);
      await row.then?.({ ...ctx, username: u.username });
    });
  }

  test('EpisodeOfCare team whose CareTeam names the user through a PractitionerRole', async () => {
    const u = await user('physician');
    const patient = await newPatient('Tabulara');
    const obs = await make(observation(patient.id) as Resource);
    const other = await newPatient('Elsewhere');
    const role = await make({ resourceType: 'PractitionerRole', practitioner: u.me } as Resource);
    const team = await make({ resourceType: 'CareTeam', status: 'active', subject: ref(other), participant: [{ member: ref(role) }] } as Resource);
    await episode({ patient, subject: ref(patient), me: u.me }, 'active', { team: [ref(team)] });
    assertAccess(await observe(u.token, patient.id, obs.id), 200, 'episode team via role');
    // The role ends: so does the reach through it.
    await s.cw.fhir.update(SYSTEM, 'PractitionerRole', role.id, { ...role, active: false } as Resource);
    assertAccess(await observe(u.token, patient.id, obs.id), 403, 'episode team via an ended role');
  });

  test('a flagged restricted-patient access is not flagged for an ordinary patient', async () => {
    const u = await user('physician');
    const patient = await newPatient('Ordinaria');
    await careTeam({ patient, subject: ref(patient), me: u.me });
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient.id}`, { token: u.token })).status, 200);
    const officer = await s.login(['privacy-officer']);
    const flags = await call(s.url, 'GET', '/api/access/flags?status=all', { token: officer });
    assert.equal(flags.status, 200);
    assert.ok(!(flags.body.uses as Array<{ patient: string }>).some((x) => x.patient === patient.id));
  });
});

// ---------------------------------------------------------------------------------------------
// Revocation takes effect with the next request
// ---------------------------------------------------------------------------------------------

describe('revocation takes effect at once', () => {
  test('a CareTeam made inactive ends access with the very next request', async () => {
    const u = await user('physician');
    const patient = await newPatient('Revocata');
    const obs = await make(observation(patient.id) as Resource);
    const team = await careTeam({ patient, subject: ref(patient), me: u.me });
    assertAccess(await observe(u.token, patient.id, obs.id), 200, 'while on the team');
    await s.cw.fhir.update(SYSTEM, 'CareTeam', team.id, { ...team, status: 'inactive' });
    assertAccess(await observe(u.token, patient.id, obs.id), 403, 'after the team became inactive');
  });

  test('a deleted PractitionerRole ends ward access at once', async () => {
    const u = await user('nurse');
    const patient = await newPatient('Dislocata');
    const obs = await make(observation(patient.id) as Resource);
    const ward = await make({ resourceType: 'Location', name: `Ward ${++seq}` } as Resource);
    const role = await make({ resourceType: 'PractitionerRole', practitioner: u.me, location: [ref(ward)] } as Resource);
    await make({
      resourceType: 'Encounter',
      status: 'in-progress',
      class: ENCOUNTER_CLASS,
      subject: ref(patient),
      location: [{ location: ref(ward), status: 'active' }],
    } as Resource);
    assertAccess(await observe(u.token, patient.id, obs.id), 200, 'while on the ward');
    await s.cw.fhir.delete(SYSTEM, 'PractitionerRole', role.id);
    assertAccess(await observe(u.token, patient.id, obs.id), 403, 'after the role was deleted');
  });

  test("a disabled account's token is refused (401) on its next request", async () => {
    const u = await user('physician');
    const patient = await newPatient('Disablata');
    await careTeam({ patient, subject: ref(patient), me: u.me });
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient.id}`, { token: u.token })).status, 200);
    await s.cw.identity.disableAccount(u.username);
    const res = await call(s.url, 'GET', `/fhir/Patient/${patient.id}`, { token: u.token });
    assert.equal(res.status, 401);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.ok(!JSON.stringify(res.body).includes('Disablata'));
  });
});

// ---------------------------------------------------------------------------------------------
// Sensitive labels
// ---------------------------------------------------------------------------------------------

describe('sensitive labels', () => {
  /** A patient with an unlabelled, an HIV- and a PSY-labelled Observation. */
  async function chart(family: string) {
    const patient = await newPatient(family);
    const plain = await make(labelled(patient.id));
    const hiv = await make(labelled(patient.id, 'HIV'));
    const psy = await make(labelled(patient.id, 'PSY'));
    return { patient, plain, hiv, psy };
  }

  /** Which of the chart's Observations a user sees, by read and by search; the two must agree. */
  async function visible(token: string, c: Awaited<ReturnType<typeof chart>>): Promise<string[]> {
    const byRead: string[] = [];
    for (const [name, o] of [
      ['plain', c.plain],
      ['HIV', c.hiv],
      ['PSY', c.psy],
    ] as const) {
      const r = await call(s.url, 'GET', `/fhir/Observation/${o.id}`, { token });
      assert.ok(r.status === 200 || r.status === 403, `${name}: ${r.status}`);
      if (r.status === 200) byRead.push(name);
    }
    const search = await call(s.url, 'GET', `/fhir/Observation?patient=${c.patient.id}`, { token });
    assert.equal(search.status, 200);
    const names = new Map([
      [c.plain.id, 'plain'],
      [c.hiv.id, 'HIV'],
      [c.psy.id, 'PSY'],
    ]);
    const bySearch = (search.body.entry ?? []).map((e: { resource: { id: string } }) => names.get(e.resource.id)).sort();
    assert.deepEqual(bySearch, [...byRead].sort(), 'search shows exactly what reads show');
    assert.equal(search.body.total, byRead.length, 'the search total counts only what may be seen');
    return byRead.sort();
  }

  test('physician with a direct relationship: HIV (allowed to physicians) yes, PSY no', async () => {
    const u = await user('physician');
    const c = await chart('Sensibilis');
    await careTeam({ patient: c.patient, subject: ref(c.patient), me: u.me });
    assert.deepEqual(await visible(u.token, c), ['HIV', 'plain']);
  });

  test('nurse with a direct relationship: neither', async () => {
    const u = await user('nurse');
    const c = await chart('Sensibilis');
    await careTeam({ patient: c.patient, subject: ref(c.patient), me: u.me });
    assert.deepEqual(await visible(u.token, c), ['plain']);
  });

  test('nurse on the ward only: no labelled data, even a category her department allows; on the care team she sees it', async () => {
    const u = await user('nurse');
    const c = await chart('Sensibilis');
    const ward = await make({ resourceType: 'Location', name: `Ward ${++seq}` } as Resource);
    await make({
      resourceType: 'PractitionerRole',
      practitioner: u.me,
      organization: { reference: `Organization/${PSYCH}` },
      location: [ref(ward)],
    } as Resource);
    await make({
      resourceType: 'Encounter',
      status: 'in-progress',
      class: ENCOUNTER_CLASS,
      subject: ref(c.patient),
      location: [{ location: ref(ward), status: 'active' }],
    } as Resource);
    assert.deepEqual(await visible(u.token, c), ['plain'], 'ward only: not direct');
    await careTeam({ patient: c.patient, subject: ref(c.patient), me: u.me });
    assert.deepEqual(await visible(u.token, c), ['PSY', 'plain'], 'direct: the department allows PSY; nurses never see HIV');
  });

  test('physician in the psychiatry department (sensitiveByDepartment) sees PSY over a direct relationship, not over a department-wide one', async () => {
    const u = await user('physician');
    const c = await chart('Sensibilis');
    await make({ resourceType: 'PractitionerRole', practitioner: u.me, organization: { reference: `Organization/${PSYCH}` } } as Resource);
    // A referral to the department: a wide relationship.
    await order({ patient: c.patient, subject: ref(c.patient), me: u.me }, 'active', { reference: `Organization/${PSYCH}` });
    assert.deepEqual(await visible(u.token, c), ['plain']);
    await careTeam({ patient: c.patient, subject: ref(c.patient), me: u.me });
    assert.deepEqual(await visible(u.token, c), ['HIV', 'PSY', 'plain']);
  });
});

// ---------------------------------------------------------------------------------------------
// Consent
// ---------------------------------------------------------------------------------------------

describe('patient privacy Consent', () => {
  const PARTICIPANT_ROLE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] };

  function consent(patientId: string, provision: Record<string, unknown>): Resource {
    return {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/${patientId}` },
      dateTime: at(-HOUR),
      policyRule: { coding: [{ system: ACT_CODE, code: 'OPTIN' }] },
      provision,
    } as Resource;
  }
  const actor = (r: Reference) => ({ role: PARTICIPANT_ROLE, reference: r });

  /** A patient on the care team of two physicians, A and B. */
  async function shared() {
    const a = await user('physician');
    const b = await user('physician');
    const patient = await newPatient('Consentia');
    const obs = await make(observation(patient.id) as Resource);
    await make({ resourceType: 'CareTeam', status: 'active', subject: ref(patient), participant: [{ member: a.me }, { member: b.me }] } as Resource);
    assertAccess(await observe(a.token, patient.id, obs.id), 200, 'A before the consent');
    assertAccess(await observe(b.token, patient.id, obs.id), 200, 'B before the consent');
    return { a, b, patient, obs };
  }

  test('deny naming physician A: A refused, B still allowed', async () => {
    const { a, b, patient, obs } = await shared();
    await make(consent(patient.id, { type: 'deny', actor: [actor(a.me)] }));
    assertAccess(await observe(a.token, patient.id, obs.id), 403, 'A denied');
    assertAccess(await observe(b.token, patient.id, obs.id), 200, 'B');
  });

  test('deny with a nested permit for B only: A refused, B allowed', async () => {
    const { a, b, patient, obs } = await shared();
    await make(consent(patient.id, { type: 'deny', provision: [{ type: 'permit', actor: [actor(b.me)] }] }));
    assertAccess(await observe(a.token, patient.id, obs.id), 403, 'A not permitted');
    assertAccess(await observe(b.token, patient.id, obs.id), 200, 'B permitted');
  });

  test('deny for the purpose of payment (HPAYMT): billing refused, the physician still allowed', async () => {
    const { a, patient, obs } = await shared();
    const billing = await user('billing');
    const encounter = await make({
      resourceType: 'Encounter',
      status: 'finished',
      class: ENCOUNTER_CLASS,
      subject: ref(patient),
      period: { start: at(-3 * DAY), end: at(-2 * DAY) },
    } as Resource);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient.id}`, { token: billing.token })).status, 200, 'billing before the consent');
    assert.equal((await call(s.url, 'GET', `/fhir/Encounter/${encounter.id}`, { token: billing.token })).status, 200, 'billing before the consent');
    await make(consent(patient.id, { type: 'deny', purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HPAYMT' }] }));
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient.id}`, { token: billing.token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Encounter/${encounter.id}`, { token: billing.token })).status, 403);
    const search = await call(s.url, 'GET', `/fhir/Encounter?patient=${patient.id}`, { token: billing.token });
    assert.equal(search.status, 200);
    assert.equal(search.body.total, 0);
    assertAccess(await observe(a.token, patient.id, obs.id), 200, 'physician (purpose TREAT)');
  });

  test('an inactive Consent restricts nothing', async () => {
    const { a, patient, obs } = await shared();
    await make({ ...consent(patient.id, { type: 'deny', actor: [actor(a.me)] }), status: 'inactive' } as Resource);
    assertAccess(await observe(a.token, patient.id, obs.id), 200, 'A');
  });

  test('a Consent never grants access to someone unrelated', async () => {
    const stranger = await user('physician');
    const patient = await newPatient('Consentia');
    const obs = await make(observation(patient.id) as Resource);
    await make(consent(patient.id, { type: 'permit', actor: [actor(stranger.me)] }));
    assertAccess(await observe(stranger.token, patient.id, obs.id), 403, 'stranger permitted by consent');
  });
});

// ---------------------------------------------------------------------------------------------
// Roles that reach patients without a care relationship
// ---------------------------------------------------------------------------------------------

describe('reception, billing and lab', () => {
  test('receptionist: finds any non-restricted patient by name, never chart content', async () => {
    const { token } = await user('receptionist');
    const family = `Frontdeska${++seq}`;
    const open = await newPatient(family);
    const restricted = await newPatient(family, { meta: { security: [{ system: ACT_CODE, code: 'VIP' }] } });
    const obs = await make(observation(open.id) as Resource);
    const found = await call(s.url, 'GET', `/fhir/Patient?name=${family}`, { token });
    assert.equal(found.status, 200);
    assert.equal(found.body.total, 1);
    assert.deepEqual(
      found.body.entry.map((e: { resource: { id: string } }) => e.resource.id),
      [open.id],
    );
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${open.id}`, { token })).status, 200);
    // A restricted patient is refused, and refused exactly like an id that does not exist.
    const hidden = await call(s.url, 'GET', `/fhir/Patient/${restricted.id}`, { token });
    const invented = await call(s.url, 'GET', `/fhir/Patient/${crypto.randomUUID()}`, { token });
    assert.equal(hidden.status, 403);
    assert.equal(invented.status, 403);
    assert.deepEqual(hidden.body, invented.body);
    const hiddenVisit = await make({
      resourceType: 'Appointment',
      status: 'booked',
      start: at(DAY),
      end: at(DAY + HOUR),
      participant: [{ actor: ref(restricted), status: 'accepted' }],
    } as Resource);
    assert.equal((await call(s.url, 'GET', `/fhir/Appointment/${hiddenVisit.id}`, { token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Appointment/${crypto.randomUUID()}`, { token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obs.id}`, { token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation?patient=${open.id}`, { token })).status, 403);
  });

  test('billing: encounters and diagnoses of a patient with an encounter; no observations or documents', async () => {
    const { token } = await user('billing');
    const patient = await newPatient('Billabong');
    const encounter = await make({
      resourceType: 'Encounter',
      status: 'finished',
      class: ENCOUNTER_CLASS,
      subject: ref(patient),
      period: { start: at(-100 * DAY), end: at(-99 * DAY) },
    } as Resource);
    const condition = await make({
      resourceType: 'Condition',
      subject: ref(patient),
      code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] },
    } as Resource);
    const obs = await make(observation(patient.id) as Resource);
    const doc = await make({
      resourceType: 'DocumentReference',
      status: 'current',
      subject: ref(patient),
      content: [{ attachment: { contentType: 'text/plain', data: 'aGk=' } }],
    } as Resource);
    assert.equal((await call(s.url, 'GET', `/fhir/Encounter/${encounter.id}`, { token })).status, 200);
    assert.equal((await call(s.url, 'GET', `/fhir/Condition/${condition.id}`, { token })).status, 200);
    assert.equal((await call(s.url, 'GET', `/fhir/Condition?patient=${patient.id}`, { token })).body.total, 1);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obs.id}`, { token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/DocumentReference/${doc.id}`, { token })).status, 403);

    // A patient who never had an encounter: nothing to bill.
    const other = await newPatient('Unbilled');
    const otherCondition = await make({
      resourceType: 'Condition',
      subject: ref(other),
      code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] },
    } as Resource);
    assert.equal((await call(s.url, 'GET', `/fhir/Condition/${otherCondition.id}`, { token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Condition?patient=${other.id}`, { token })).body.total, 0);
  });

  test('lab: reads the orders assigned to its department, files results based on them, nothing else', async () => {
    const lab = await user('lab');
    const dept = await make({ resourceType: 'Organization', name: `Laboratory ${++seq}` } as Resource);
    await make({ resourceType: 'PractitionerRole', practitioner: lab.me, organization: ref(dept) } as Resource);
    const patient = await newPatient('Laboratoria');
    const subject = ref(patient);
    const assigned = await make({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject,
      code: { text: 'potassium' },
      performer: [ref(dept)],
    } as Resource);
    const elsewhere = await make({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, code: { text: 'x-ray' } } as Resource);
    const unrelatedObs = await make(observation(patient.id) as Resource);

    assert.equal((await call(s.url, 'GET', `/fhir/ServiceRequest/${assigned.id}`, { token: lab.token })).status, 200);
    assert.equal((await call(s.url, 'GET', `/fhir/ServiceRequest/${elsewhere.id}`, { token: lab.token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${unrelatedObs.id}`, { token: lab.token })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation?patient=${patient.id}`, { token: lab.token })).body.total, 0);

    const report = { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'potassium' }, subject };
    const based = await call(s.url, 'POST', '/fhir/DiagnosticReport', { token: lab.token, body: { ...report, basedOn: [ref(assigned)] } });
    assert.equal(based.status, 201, JSON.stringify(based.body));
    assert.equal((await call(s.url, 'GET', `/fhir/DiagnosticReport/${based.body.id}`, { token: lab.token })).status, 200);
    assert.equal((await call(s.url, 'POST', '/fhir/DiagnosticReport', { token: lab.token, body: report })).status, 403);
    assert.equal((await call(s.url, 'POST', '/fhir/DiagnosticReport', { token: lab.token, body: { ...report, basedOn: [ref(elsewhere)] } })).status, 403);
  });
});
