/**
 * The Medplum column of bench/http.ts, when MEDPLUM_URL (its FHIR base, e.g.
 * http://localhost:8103/fhir/R4) and MEDPLUM_TOKEN (a bearer token of a project member allowed to
 * create and read) are given: the bench's clinic loaded through its FHIR API, one transaction
 * Bundle per patient with its observations. No Medplum server is started here (it is not an npm
 * package); the column is left out without them.
 */
import crypto from 'node:crypto';
import { clinic, type Loaded } from './httpData.js';

export async function loadMedplum(base: string, token: string): Promise<Loaded & { base: string; token: string; practitioner: string }> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`Medplum ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as any;
  };
  const gp = await post('/Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Bench' }] });
  const practitioner = `Practitioner/${gp.id}`;
  const loaded: Loaded = { patientIds: [], families: [] };
  for (const { patient, observations } of clinic(practitioner)) {
    const ref = `urn:uuid:${crypto.randomUUID()}`;
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: ref, resource: patient, request: { method: 'POST', url: 'Patient' } },
        ...observations('X').map((o) => ({ resource: { ...o, subject: { reference: ref } }, request: { method: 'POST', url: 'Observation' } })),
      ],
    };
    const answer = await post('', bundle);
    const location = String(answer.entry?.[0]?.response?.location ?? '');
    const id = /Patient\/([^/]+)/.exec(location)?.[1] ?? answer.entry?.[0]?.resource?.id;
    if (!id) throw new Error('Medplum: a transaction answered without the new Patient');
    loaded.patientIds.push(id);
    loaded.families.push(patient.name[0].family);
  }
  return { base, token, practitioner, ...loaded };
}
