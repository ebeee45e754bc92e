/**
 * The notifications privacy officers read, since they moved from access to notify: an installation
 * upgraded with notifications and read marks in the old tables keeps them all, they go on from where
 * they were, and nobody without the right to review accesses reads or marks them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { accessMigrations, AccessDeniedError, authorize } from '../src/access/index.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { createLogger } from '../src/log.js';
import { Notices, notifyMigrations, Webhooks } from '../src/notify/index.js';
import type { Who } from '../src/shared/index.js';
import { copyTemplate } from './helpers/installationTemplate.js';

let db: Database;
let dir: string;
const schema = `notify_move_${process.pid}`;
const officer: Who = { accountId: 'acc-po', username: 'po-reads', roles: ['privacy-officer'] };
const otherOfficer: Who = { accountId: 'acc-po2', username: 'po-other', roles: ['privacy-officer'] };
const nurse: Who = { accountId: 'acc-nurse', username: 'nurse-curious', roles: ['nurse'] };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-notify-move-'));
  // The embedded database: a copy of the migrated installation's (PGlite's initdb costs seconds).
  if (!process.env.DATABASE_URL) await copyTemplate(dir);
  db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, poolSize: 1 });
  // A schema of its own, so the access tables are made as an installation before the move had them.
  await db.exec(`create schema ${schema}; set search_path to ${schema}, public`);
});
after(async () => {
  await db.exec(`drop schema ${schema} cascade`);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an upgrade keeps every notification and read mark, and they go on from there; only reviewers read or mark them', async () => {
  await migrate(db, accessMigrations);
  await db.query(
    `insert into access_notification (audience, kind, grant_id, message)
     select 'privacy-officer', 'break-glass', 'grant-' || i, 'dr-' || i || ' broke the glass' from generate_series(1, 3) as i`,
  );
  await db.query(`insert into access_notification_read (account_id, read_up_to) values ($1, 2)`, [officer.accountId]);

  assert.deepEqual(await migrate(db, [...accessMigrations, ...notifyMigrations]), ['notify:1']);
  const notices = new Notices(db, createLogger('silent'), new Webhooks([], createLogger('silent')), (who) => authorize(who, 'access.review'));

  const kept = await notices.forReader(officer);
  assert.deepEqual(
    kept.notifications.map((n) => [n.grant, n.message, n.read]),
    [
      ['grant-3', 'dr-3 broke the glass', false],
      ['grant-2', 'dr-2 broke the glass', true],
      ['grant-1', 'dr-1 broke the glass', true],
    ],
  );
  assert.equal(kept.unread, 1);
  assert.equal((await notices.forReader(otherOfficer)).unread, 3, "one reader's marks are nobody else's");

  await notices.send('ransomware-alarm', 'guard', 'guard: mass encryption stopped');
  const after = await notices.forReader(officer);
  assert.deepEqual(
    after.notifications.slice(0, 2).map((n) => [n.kind, Number(n.id)]),
    [
      ['ransomware-alarm', 4],
      ['break-glass', 3],
    ],
    'numbering goes on after the moved rows',
  );
  assert.equal(after.unread, 2);
  await notices.markRead(officer, after.notifications[0].id);
  assert.equal((await notices.forReader(officer)).unread, 0);
  await notices.markRead(officer, '1');
  assert.equal((await notices.forReader(officer)).unread, 0, 'a mark never moves backwards');

  await assert.rejects(notices.forReader(nurse), AccessDeniedError);
  await assert.rejects(notices.markRead(nurse, '4'), AccessDeniedError);
  const marks = await db.query<{ account_id: string }>('select account_id from notify_read order by account_id');
  assert.deepEqual(
    marks.rows.map((r) => r.account_id),
    [officer.accountId],
    "a refused reader's mark was not written",
  );
});
