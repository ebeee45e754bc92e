/**
 * The access rules are one table (src/access/rules.ts) read by two interpreters: `routes` over one
 * patient's decision context (a read; a search by patient, through `pinnedPredicate`) and the SQL
 * predicate of a search across patients. Here every condition of every scope's way in, and every
 * grant, is taken out of the table in turn, on a policy built with that table: some row's decision
 * must change, and all the forms (a read, the set predicate, a search by patient, a search's rows
 * decided one by one) must still agree on every row. A rule one interpreter ignored,
 * or read differently from the other, fails this; test/access-matrix.test.ts holds the forms to the
 * real table over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM, type Role, type Who } from '../src/shared/index.js';
import { AccessPolicy } from '../src/access/policy.js';
import { ROLE_RIGHTS, rolesAllowing, type Scope } from '../src/access/roles.js';
import { SCOPE_RULES, type ConsentPurpose, type ScopeRule, type ScopeRules } from '../src/access/rules.js';
import { startTestServer, type TestServer } from './helpers/harness.js';

interface Row {
  resourceType: string;
  id: string;
  patientId: string;
  label: string;
}
interface Caller {
  who: Who;
  scope: Scope;
}
interface Answer {
  read: boolean;
  search: boolean;
  /** Undefined when the rows' own ids matter (a lab's): the search then uses the set predicate. */
  byPatient?: boolean;
  /** A search's rows decided one by one (AccessPolicy.admitted); undefined where the set predicate decides. */
  byRow?: boolean;
}

const SCOPES = Object.keys(SCOPE_RULES) as Scope[];
const PURPOSES: ConsentPurpose[] = ['TREAT', 'HOPERAT', 'HPAYMT'];

describe('both interpreters follow the rules table', () => {
  let s: TestServer;
  const rows: Row[] = [];
  const callers: Caller[] = [];

  before(async () => {
    s = await startTestServer();
    const make = async (body: Record<string, unknown>) =>
      (await s.cw.fhir.create(SYSTEM, body.resourceType as string, body as unknown as Resource)).resource as Resource & { id: string };
    let n = 0;
    const caller = async (role: Role): Promise<Who> => {
      const practitioner = await make({ resourceType: 'Practitioner', name: [{ family: `${role}-${++n}` }] });
      return { accountId: `rules-${role}-${n}`, username: `rules-${role}-${n}`, roles: [role], practitioner: `Practitioner/${practitioner.id}` };
    };
    const doctor = await caller('physician');
    const covering = await caller('physician');
    const lab = await caller('lab');
    const officer = await caller('privacy-officer');
    callers.push(
      { who: doctor, scope: 'clinical' },
      { who: covering, scope: 'clinical' },
      { who: await caller('receptionist'), scope: 'front-desk' },
      { who: await caller('billing'), scope: 'billing' },
      { who: lab, scope: 'lab' },
      { who: officer, scope: 'investigation' },
    );

    /**
     * A patient and what the case needs: the doctor's care, an encounter, an order for the lab (and
     * its result), a consent refusing everyone (for any purpose or for one).
     */
    const patient = async (
      label: string,
      has: { care?: boolean; encounter?: boolean; order?: boolean; refuses?: ConsentPurpose | 'any'; restricted?: boolean },
    ) => {
      const p = await make({
        resourceType: 'Patient',
        name: [{ family: label }],
        ...(has.restricted ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] } } : {}),
      });
      const subject = { reference: `Patient/${p.id}` };
      rows.push({ resourceType: 'Patient', id: p.id, patientId: p.id, label });
      if (has.care) await make({ resourceType: 'CareTeam', status: 'active', subject, participant: [{ member: { reference: doctor.practitioner } }] });
      if (has.encounter) {
        const e = await make({
          resourceType: 'Encounter',
          status: 'finished',
          class: { code: 'AMB' },
          subject,
          period: { start: '2019-01-01', end: '2019-01-02' },
        });
        rows.push({ resourceType: 'Encounter', id: e.id, patientId: p.id, label });
      }
      if (has.order) {
        const code = { coding: [{ system: 'http://loinc.org', code: '2345-7' }] };
        const order = await make({
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          subject,
          code,
          performer: [{ reference: lab.practitioner }],
        });
        const result = await make({ resourceType: 'Observation', status: 'final', code, subject, basedOn: [{ reference: `ServiceRequest/${order.id}` }] });
        rows.push(
          { resourceType: 'ServiceRequest', id: order.id, patientId: p.id, label },
          { resourceType: 'Observation', id: result.id, patientId: p.id, label },
        );
      }
      if (has.refuses)
        await make({
          resourceType: 'Consent',
          status: 'active',
          scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
          category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
          patient: subject,
          policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
          provision: {
            type: 'deny',
            ...(has.refuses === 'any' ? {} : { purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: has.refuses }] }),
          },
        });
      return p.id;
    };
    await patient('cared', { care: true, encounter: true, order: true });
    for (const refuses of ['any', ...PURPOSES] as const) await patient(`refusing (${refuses})`, { care: true, encounter: true, order: true, refuses });
    await patient('restricted', { encounter: true, restricted: true });
    await patient('newcomer', {});
    const stranger = await patient('stranger', { encounter: true });
    // A row whose patient is not on file (a made-up id).
    rows.push({ resourceType: 'Patient', id: 'not-on-file', patientId: 'not-on-file', label: 'not on file' });
    const justification = 'Unconscious on arrival, allergies unknown';
    await s.cw.grants.breakGlass(covering, { patient: stranger, reason: 'emergency-treatment', justification });
    await s.cw.grants.investigate(officer, { patient: stranger, reason: 'complaint about access to this chart' });
  });
  after(() => s?.close());

  /** One caller's answer on one row, in the three forms, under `table`. */
  async function ask(table: ScopeRules, c: Caller, row: Row): Promise<Answer> {
    const policy = new AccessPolicy(s.cw.db, () => s.cw.keyring.blindIndex, s.cw.settings.access, { audit: async () => {}, review: async () => {} }, table);
    const target = { resourceType: row.resourceType, id: row.id, patientId: row.patientId, labels: [] };
    const read = (await policy.decide(c.who, 'read', 'read', target)).allowed;
    const holds = async (predicate: (bind: (v: unknown) => string) => string | Promise<string | undefined>): Promise<boolean | undefined> => {
      const params: unknown[] = [];
      const bind = (v: unknown) => `$${params.push(v)}`;
      const sql = await predicate(bind);
      if (sql === undefined) return undefined;
      const one = `(select ${bind(row.resourceType)}::text as resource_type, ${bind(row.id)}::text as id, ${bind(row.patientId)}::text as patient_id,
        '{}'::text[] as labels) r`;
      return (await s.cw.db.query<{ ok: boolean }>(`select (${sql}) as ok from ${one}`, params)).rows[0].ok;
    };
    const search = (await holds((bind) => policy.predicate(c.who, row.resourceType, 'read', 'search', 'r', bind))) as boolean;
    const byPatient = await holds((bind) => policy.pinnedPredicate(c.who, row.resourceType, [row.patientId], 'r', bind));
    const byRow = policy.decidesRowsByPatient(c.who, row.resourceType) ? (await policy.admitted(c.who, row.resourceType, [target]))[0] : undefined;
    return { read, search, byPatient, byRow };
  }

  /** Every answer of the scope's callers on the rows their roles may read, each checked for agreement of the forms. */
  async function answers(table: ScopeRules, scope: Scope): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    const disagreements: string[] = [];
    for (const c of callers.filter((x) => x.scope === scope))
      for (const row of rows.filter((r) => rolesAllowing(c.who.roles, 'read', r.resourceType).length > 0)) {
        const a = await ask(table, c, row);
        const key = `${c.who.username} ${row.resourceType} of ${row.label}`;
        if (a.search !== a.read || (a.byPatient !== undefined && a.byPatient !== a.read) || (a.byRow !== undefined && a.byRow !== a.read))
          disagreements.push(`${key}: ${JSON.stringify(a)}`);
        out.set(key, a.read);
      }
    assert.deepEqual(disagreements, [], 'the forms disagree');
    return out;
  }

  const changed = (before: Map<string, boolean>, after: Map<string, boolean>, from: boolean) =>
    [...before].filter(([key, allowed]) => allowed === from && after.get(key) === !from).map(([key]) => key);

  const withRule = (scope: Scope, rule: ScopeRule): ScopeRules => ({ ...SCOPE_RULES, [scope]: rule });

  test('the table describes the scope of every role, and the rows here show each scope both letting in and refusing', async () => {
    for (const rights of Object.values(ROLE_RIGHTS)) if (rights.scope) assert.ok(SCOPE_RULES[rights.scope], `no rules for ${rights.scope}`);
    for (const scope of SCOPES) {
      const decisions = [...(await answers(SCOPE_RULES, scope)).values()];
      assert.ok(decisions.includes(true) && decisions.includes(false), `${scope}: ${decisions.length} answers, all ${decisions[0]}`);
    }
  });

  for (const scope of SCOPES) {
    const rule = SCOPE_RULES[scope];
    const way = rule.way;
    if ('conditions' in way)
      way.conditions.forEach((condition, i) => {
        test(`${scope} without its condition "${condition.holds}"${'facts' in condition ? ` (${condition.facts.join(', ')})` : ''}: both forms let in more`, async () => {
          const loosened = withRule(scope, { ...rule, way: { ...way, conditions: way.conditions.filter((_, j) => j !== i) } });
          const opened = changed(await answers(SCOPE_RULES, scope), await answers(loosened, scope), false);
          assert.ok(opened.length > 0, 'no answer changed');
        });
      });
    if ('conditions' in way)
      way.conditions.forEach((condition, i) => {
        if (condition.holds !== 'consent-permits') return;
        for (const purpose of PURPOSES.filter((p) => p !== condition.purpose))
          test(`${scope} asking consent for ${purpose}, not ${condition.purpose}: both forms follow`, async () => {
            const conditions = way.conditions.map((c, j) => (j === i ? { ...condition, purpose } : c));
            const before = await answers(SCOPE_RULES, scope);
            const after = await answers(withRule(scope, { ...rule, way: { ...way, conditions } }), scope);
            assert.ok(changed(before, after, false).length > 0 && changed(before, after, true).length > 0, 'not both ways');
          });
      });
    if (rule.grant)
      test(`${scope} without its ${rule.grant.kind} grant: both forms refuse what the grant opened`, async () => {
        const closed = changed(await answers(SCOPE_RULES, scope), await answers(withRule(scope, { ...rule, grant: undefined }), scope), true);
        assert.ok(closed.length > 0, 'no answer changed');
      });
  }
});
