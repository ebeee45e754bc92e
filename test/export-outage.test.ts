/**
 * An approved export whose database goes away under it (a restart, a failover) runs again once the
 * database is back, rather than failing and needing a second person's approval again; before,
 * storing its failure on the absent database could reject a promise nobody handles, which ends the
 * process.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM, type Who } from '../src/shared/index.js';
import { BulkExports } from '../src/bulk/index.js';
import type { Database } from '../src/db/database.js';
import { DatabaseUnavailableError } from '../src/db/errors.js';
import { startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

let s: TestServer;
let doctor: Who;
let officer: Who;
before(async () => {
  s = await startTestServer({ audit: { intervalSeconds: 0 } });
  const who = async (token: string) => (await s.cw.identity.authenticate(token))!;
  const doctorToken = await s.login(['physician'], 'dr-exporter');
  doctor = await who(doctorToken);
  officer = await who(await s.login(['privacy-officer'], 'po-approver'));
  const mine = (
    await s.cw.fhir.create(SYSTEM, 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Exportata' }],
      generalPractitioner: [{ reference: s.practitionerOf(doctorToken) }],
    })
  ).id;
  for (let i = 0; i < 3; i++) await s.cw.fhir.create(SYSTEM, 'Observation', observation(mine) as Resource);
});
after(() => s?.close());

test('a job the database went away under runs again when it is back, and completes whole', async () => {
  // The database away for the job's first file: what a restart under a running job looks like to it.
  let away = 1;
  const db = new Proxy(s.cw.db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params?: unknown[]) => {
          if (away > 0 && sql.startsWith('insert into bulk_export_file')) {
            away--;
            return Promise.reject(
              new DatabaseUnavailableError('the database is unavailable (ECONNRESET)', {
                cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
              }),
            );
          }
          return target.query(sql, params);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Database;
  const exports = new BulkExports(db, s.cw.fhir, s.cw.keyring, s.cw.audit, s.cw.log);
  const job = await exports.request(doctor, { level: 'system', types: ['Patient', 'Observation'] });
  await exports.decide(officer, job.id, true);
  await exports.running.get(job.id);
  assert.equal(away, 0, 'the outage happened');
  const done = await exports.status(doctor, job.id);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  // Whole: each file once, none left over from the try that was cut off.
  assert.deepEqual(
    done.files.map((f) => [f.type, f.count]),
    [
      ['Patient', 1],
      ['Observation', 3],
    ],
  );
});
