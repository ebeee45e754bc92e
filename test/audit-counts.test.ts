/**
 * The audit log's maintained counts (src/audit/counts.ts) against counting every record: for seeded
 * random searches (time ranges that cut hours or follow them, within one hour or across days, by
 * action and outcome, by patient or user), the count from the counts table and the hours' edges is
 * exactly the number of records a search finds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { auditMigrations } from '../src/audit/schema.js';
import { MerkleLog, type EntryColumns } from '../src/audit/log.js';
import { countMatching } from '../src/audit/counts.js';
import { searchFrom, type SearchFilter } from '../src/audit/searchColumns.js';
import { bindTo } from '../src/db/index.js';
import { copyTemplate } from './helpers/installationTemplate.js';
import { Seeded, testSeed } from './helpers/seeded.js';

let db: Database;
let dir: string;
const schema = `audit_counts_${process.pid}`;
const seed = testSeed(2026_12_06);
const random = new Seeded(seed);

const START = Date.parse('2026-03-01T22:00:00.000Z');
const SPAN_MS = 3 * 86_400_000;
const ACTIONS = ['read', 'search', 'update', 'login'];
const OUTCOMES = ['success', 'denied', 'failure'];
const records: EntryColumns[] = [];
const ROUNDS = 120;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-audit-counts-'));
  if (!process.env.DATABASE_URL) await copyTemplate(dir);
  db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, poolSize: 1 });
  // A schema of its own, so that only these records are counted.
  await db.exec(`create schema ${schema}; set search_path to ${schema}`);
  await migrate(db, auditMigrations);
  const log = new MerkleLog(db);
  // Appends of a few records each, as a server makes them, in time order with bursts and quiet hours.
  let at = START;
  while (at < START + SPAN_MS) {
    const batch: EntryColumns[] = [];
    for (let k = random.int(1, 12); k > 0; k--) {
      at += random.next() < 0.01 ? random.int(3_600_000, 5 * 3_600_000) : random.int(1, 240_000);
      batch.push({
        at: new Date(at).toISOString(),
        patient: random.next() < 0.8 ? `patient-${random.int(0, 12)}` : undefined,
        account: `account-${random.int(0, 5)}`,
        action: ACTIONS[random.int(0, ACTIONS.length)],
        outcome: OUTCOMES[random.int(0, OUTCOMES.length)],
      });
    }
    await log.appendBatch(
      batch.map((c, i) => Buffer.from(`record ${records.length + i}`)),
      batch,
    );
    records.push(...batch);
  }
});
after(async () => {
  await db?.exec(`drop schema ${schema} cascade`);
  await db?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The records a search of `f` finds, counted one by one. */
function expected(f: SearchFilter): number {
  return records.filter(
    (r) =>
      (!f.patient || r.patient === f.patient) &&
      (!f.agent || r.account === f.agent) &&
      (!f.actions || f.actions.includes(r.action)) &&
      (!f.outcome || r.outcome === f.outcome) &&
      (!f.from || Date.parse(r.at) >= Date.parse(f.from)) &&
      (!f.to || Date.parse(r.at) < Date.parse(f.to)),
  ).length;
}

/** What the search columns alone say (the count a search's rows would give). */
async function unpacked(f: SearchFilter): Promise<number> {
  const params: unknown[] = [];
  return (await db.query<{ n: number }>(`select count(*)::int as n ${searchFrom(f, bindTo(params))}`, params)).rows[0].n;
}

/** An instant in or around the records' span: on the hour, on the minute, or anywhere. */
function instant(): string {
  let t = START - 3_600_000 + Math.floor(random.next() * (SPAN_MS + 2 * 3_600_000));
  const kind = random.int(0, 3);
  if (kind === 0) t -= t % 3_600_000;
  else if (kind === 1) t -= t % 60_000;
  return new Date(t).toISOString();
}

test(`the maintained counts equal counting every record, for ${ROUNDS} random searches (seed ${seed})`, async () => {
  assert.ok(records.length > 500, `enough records to cross many hours (${records.length})`);
  assert.equal(await countMatching(db, {}), records.length);
  for (let round = 0; round < ROUNDS; round++) {
    const f: SearchFilter = {};
    if (random.next() < 0.7) f.from = instant();
    if (random.next() < 0.7) f.to = random.next() < 0.3 && f.from ? new Date(Date.parse(f.from) + random.int(1, 3_600_000)).toISOString() : instant();
    if (random.next() < 0.4) f.actions = ACTIONS.filter((a, i) => i === round % ACTIONS.length || random.next() < 0.4);
    if (random.next() < 0.3) f.outcome = OUTCOMES[random.int(0, OUTCOMES.length)];
    if (random.next() < 0.15) f.patient = `patient-${random.int(0, 12)}`;
    if (random.next() < 0.1) f.agent = `account-${random.int(0, 5)}`;
    const want = expected(f);
    assert.equal(await unpacked(f), want, `round ${round}: the search columns (${JSON.stringify(f)})`);
    assert.equal(await countMatching(db, f), want, `round ${round}: the maintained count (${JSON.stringify(f)})`);
  }
});

test('a count of the whole log reads the counts table, not the records: it stays right when the search columns are gone', async () => {
  // The proof that no record is unpacked: with the search columns emptied, the whole-log and
  // whole-hour counts are unchanged, while a count that must unpack (by patient) finds nothing.
  await db.transaction(async (tx) => {
    await tx.query('create temporary table kept as select * from audit_entry_batch');
    await tx.query('delete from audit_entry_batch');
    try {
      assert.equal(await countMatching(tx, {}), records.length);
      const hour = '2026-03-02T05:00:00.000Z';
      const next = '2026-03-02T09:00:00.000Z';
      assert.equal(await countMatching(tx, { from: hour, to: next, actions: ['read'] }), expected({ from: hour, to: next, actions: ['read'] }));
      assert.equal(await countMatching(tx, { patient: 'patient-1' }), 0);
    } finally {
      await tx.query('insert into audit_entry_batch select * from kept');
      await tx.query('drop table kept');
    }
  });
  assert.equal(await countMatching(db, { patient: 'patient-1' }), expected({ patient: 'patient-1' }));
});
