/**
 * Carewall through the FHIR clients a clinic's integrations use (issue 30): SMART's `fhirclient`,
 * `fhir-kit-client` and Medplum's client, each driving the running server as it would in the field:
 * the CapabilityStatement, a read, a search, a create, an update with its version, a batch posted
 * to the base (with the trailing slash the clients use), and a refusal said as an OperationOutcome.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MedplumClient } from '@medplum/core';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import smart from 'fhirclient';
import { Client as FhirKitClient } from 'fhir-kit-client';
import { SYSTEM } from '../src/shared/index.js';
import { startTestServer, type TestServer } from './helpers/harness.js';

const VITALS = 'http://terminology.hl7.org/CodeSystem/observation-category';
const weight = (patient: string, kg: number): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: VITALS, code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }], text: 'Body weight' },
  subject: { reference: `Patient/${patient}` },
  valueQuantity: { value: kg, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
});

describe('outside FHIR clients against the running server', () => {
  let s: TestServer;
  let token = '';
  let mine = '';
  let stranger = '';
  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician'], 'dr-clients');
    const me = s.practitionerOf(token);
    mine = (await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Clientele' }], generalPractitioner: [{ reference: me }] }))
      .id;
    stranger = (await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Elsewhere' }] })).id;
    await s.cw.fhir.create(SYSTEM, 'Observation', weight(mine, 70) as never);
  });
  after(async () => s?.close());
  const batch = (): Bundle => ({
    resourceType: 'Bundle',
    type: 'batch',
    entry: [{ request: { method: 'GET', url: `Patient/${mine}` } }, { request: { method: 'GET', url: `Observation?patient=Patient/${mine}` } }],
  });

  test('fhir-kit-client', async () => {
    const client = new FhirKitClient({ baseUrl: `${s.url}/fhir`, customHeaders: { authorization: `Bearer ${token}` } });
    const caps = (await client.capabilityStatement()) as unknown as { fhirVersion: string };
    assert.equal(caps.fhirVersion, '4.0.1');
    const patient = (await client.read({ resourceType: 'Patient', id: mine })) as unknown as Patient;
    assert.equal(patient.name?.[0].family, 'Clientele');
    const found = (await client.search({ resourceType: 'Observation', searchParams: { patient: `Patient/${mine}` } })) as unknown as Bundle;
    assert.equal(found.entry?.length, 1);
    const created = (await client.create({ resourceType: 'Observation', body: weight(mine, 71) as never })) as unknown as Observation;
    assert.ok(created.id);
    const updated = (await client.update({
      resourceType: 'Observation',
      id: created.id!,
      body: { ...created, valueQuantity: { ...created.valueQuantity, value: 72 } },
    })) as unknown as Observation;
    assert.equal(updated.meta?.versionId, '2');
    const answers = (await client.batch({ body: batch() as never })) as unknown as Bundle;
    assert.deepEqual(
      answers.entry?.map((e) => e.response?.status.slice(0, 3)),
      ['200', '200'],
    );
    // Refused: a chart with no care relationship. The client sees the server's OperationOutcome.
    await assert.rejects(
      client.read({ resourceType: 'Patient', id: stranger }),
      (err: { response?: { status?: number; data?: { resourceType?: string } } }) => {
        assert.equal(err.response?.status, 403);
        assert.equal(err.response?.data?.resourceType, 'OperationOutcome');
        return true;
      },
    );
  });

  test('fhirclient (SMART’s JavaScript client)', async () => {
    const client = smart({ url: '/', headers: {} } as never, {} as never).client({ serverUrl: `${s.url}/fhir`, tokenResponse: { access_token: token } });
    const patient = (await client.request(`Patient/${mine}`)) as Patient;
    assert.equal(patient.name?.[0].family, 'Clientele');
    const found = (await client.request(`Observation?patient=Patient/${mine}`)) as Bundle;
    assert.ok((found.entry?.length ?? 0) >= 1);
    const created = (await client.create(weight(mine, 68) as never)) as Observation;
    assert.ok(created.id);
    const updated = (await client.update({ ...created, valueQuantity: { ...created.valueQuantity, value: 69 } } as never)) as Observation;
    assert.equal(updated.meta?.versionId, '2');
    const answers = (await client.request({
      url: '/',
      method: 'POST',
      body: JSON.stringify(batch()),
      headers: { 'content-type': 'application/fhir+json' },
    })) as Bundle;
    assert.equal(answers.type, 'batch-response');
    await assert.rejects(client.request(`Patient/${stranger}`), /403|Forbidden|access denied/i);
  });

  test('Medplum’s client', async () => {
    const client = new MedplumClient({ baseUrl: `${s.url}/`, fhirUrlPath: 'fhir', fetch: globalThis.fetch.bind(globalThis) });
    client.setAccessToken(token);
    const patient = await client.readResource('Patient', mine);
    assert.equal(patient.name?.[0].family, 'Clientele');
    const found = await client.searchResources('Observation', { patient: `Patient/${mine}` });
    assert.ok(found.length >= 1);
    const created = await client.createResource(weight(mine, 66));
    const updated = await client.updateResource({ ...created, valueQuantity: { ...created.valueQuantity, value: 67 } });
    assert.equal(updated.meta?.versionId, '2');
    const answers = await client.executeBatch(batch());
    assert.equal(answers.type, 'batch-response');
    await assert.rejects(client.readResource('Patient', stranger));
  });
});
