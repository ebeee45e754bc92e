/**
 * One Carewall for bench/http.ts, in a process of its own (so that the load generator and the other
 * servers do not share its event loop): the test harness's server on the embedded database, or on
 * PostgreSQL when DATABASE_URL is set, loaded with the bench's clinic (httpData.ts) by the same code
 * as every write. Prints one JSON line (its address, a physician's token, the ids and names) when
 * ready; closes (dropping its database) on SIGTERM.
 */
import { SYSTEM } from '../src/shared/index.js';
import { startTestServer } from '../test/helpers/harness.js';
import { clinic, type Loaded } from './httpData.js';

const server = await startTestServer({});
// The searcher and reader is the patients' general practitioner: a care relationship to each.
const token = await server.login(['physician']);
const practitioner = server.practitionerOf(token);
const loaded: Loaded = { patientIds: [], families: [] };
for (const { patient, observations } of clinic(practitioner)) {
  const pw = await server.cw.fhir.prepareCreate(SYSTEM, patient, 'Patient');
  const writes = [pw];
  for (const o of observations(pw.id)) writes.push(await server.cw.fhir.prepareCreate(SYSTEM, o, 'Observation'));
  await server.cw.fhir.commit(writes);
  loaded.patientIds.push(pw.id);
  loaded.families.push(patient.name[0].family);
}
process.stdout.write(JSON.stringify({ base: `${server.url}/fhir`, token, practitioner, ...loaded }) + '\n');
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
