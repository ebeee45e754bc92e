/**
 * Issue 8, point 5: an account that changes or deletes an unusual number of records in a short time
 * is suspended (its sessions end) and reported to privacy officers; every version stays.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import type { StoredSettings } from '../src/config.js';
import { observation, patient, treatedBy } from './helpers/fixtures.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { until } from './helpers/poll.js';

let s: TestServer;
const LIMIT = 6;
// An hour: the count is kept in minute buckets of the database's clock, and a test's writes on a
// loaded machine must never outlast the window (with 60 s they did, under four test files at once).
const WINDOW_SECONDS = 3600;

before(async () => {
  s = await startTestServer({ massChange: { maxChanges: LIMIT, windowSeconds: WINDOW_SECONDS } } as StoredSettings);
});
after(async () => s.close());

async function chart(token: string, observations: number) {
  treatedBy(s.practitionerOf(token));
  const p = await s.cw.fhir.create(SYSTEM, 'Patient', patient('Masschange', 'Ida'));
  treatedBy(undefined);
  const ids: string[] = [];
  for (let i = 0; i < observations; i++) ids.push((await s.cw.fhir.create(SYSTEM, 'Observation', observation(p.id, '8867-4', 60 + i))).id);
  return ids;
}

const put = (token: string, id: string, pid: string, value: number) =>
  call(s.url, 'PUT', `/fhir/Observation/${id}`, { token, body: { ...observation(pid, '8867-4', value), id } });

test('an account deleting and changing records past the limit is suspended, reported, and nothing is lost', async () => {
  const token = await s.login(['physician'], 'mass-deleter');
  const ids = await chart(token, LIMIT + 4);
  const pid = ((await s.cw.fhir.read(SYSTEM, 'Observation', ids[0])).resource as { subject: { reference: string } }).subject.reference.slice(8);
  const statuses: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const r = i % 2 === 0 ? await call(s.url, 'DELETE', `/fhir/Observation/${ids[i]}`, { token }) : await put(token, ids[i], pid, 1);
    statuses.push(r.status);
    if (r.status === 401) break;
  }
  // The first LIMIT+1 go through (the one that crosses the limit commits, then the account is disabled).
  assert.deepEqual(
    statuses.slice(0, LIMIT + 1).every((x) => x === 200 || x === 204),
    true,
    statuses.join(','),
  );
  // While the suspension is being carried out, every further write is refused (403), however many
  // arrive (how many depends on the machine's load, never on luck: none of them goes through); once
  // done, the session is gone (401).
  assert.ok(
    statuses.slice(LIMIT + 1).every((x) => x === 403 || x === 401),
    statuses.join(','),
  );
  // The account ends up disabled and its session ended.
  await until('the account to be disabled', async () => (await s.cw.identity.listAccounts()).find((a) => a.username === 'mass-deleter')?.disabled === true);
  assert.equal((await put(token, ids[1], pid, 2)).status, 401, `later writes end: ${statuses.join(',')}`);
  // Reported to privacy officers, naming the account and not the patient.
  const po = await s.login(['privacy-officer']);
  const notes = await call(s.url, 'GET', '/api/notifications', { token: po });
  const note = (notes.body.notifications as Array<{ kind: string; message: string }>).find((n) => n.kind === 'mass-change');
  assert.ok(note, JSON.stringify(notes.body));
  assert.match(note.message, new RegExp(`mass-deleter was suspended: (7|8) records changed or deleted within ${WINDOW_SECONDS} s \\(limit ${LIMIT}\\)`));
  assert.doesNotMatch(note.message, /Masschange|Patient\//);
  // Every version is kept: the deleted and changed records' earlier versions read back.
  for (const id of ids.slice(0, LIMIT + 1)) {
    const v1 = await s.cw.fhir.vread(SYSTEM, 'Observation', id, '1');
    assert.equal(v1.deleted, false);
  }
  // The suspension is on record.
  const r = await s.cw.db.query<{ n: number }>(`select count(*)::int as n from backup_suspension where username = 'mass-deleter'`);
  assert.equal(r.rows[0].n, 1);
});

test('an account at the limit, and creations of any number, are not suspended', async () => {
  const token = await s.login(['physician'], 'busy-but-normal');
  // Creations do not count: a clinic enters many results.
  const ids = await chart(token, 2);
  const pid = ((await s.cw.fhir.read(SYSTEM, 'Observation', ids[0])).resource as { subject: { reference: string } }).subject.reference.slice(8);
  for (let i = 0; i < LIMIT + 3; i++)
    assert.equal((await call(s.url, 'POST', '/fhir/Observation', { token, body: observation(pid, '8867-4', 70 + i) })).status, 201);
  for (let i = 0; i < LIMIT; i++) assert.equal((await put(token, ids[i % 2], pid, 80 + i)).status, 200);
  const accounts = await s.cw.identity.listAccounts();
  assert.equal(accounts.find((a) => a.username === 'busy-but-normal')?.disabled, false);
  assert.equal((await call(s.url, 'GET', `/fhir/Observation/${ids[0]}`, { token })).status, 200);
});
