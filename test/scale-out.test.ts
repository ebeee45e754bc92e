/**
 * What lets Carewall run through a transaction-pooling PgBouncer (docs/scale-out.md), short of the
 * cluster itself (test/cluster/, `npm run test:cluster`):
 *  - DATABASE_POOLER=transaction: no statement is ever prepared under a name (a pooler hands the
 *    next transaction to another server connection, where the name does not exist);
 *  - DATABASE_LISTEN_URL: LISTEN goes to a session connection of its own, at that address;
 *  - neither connection string is kept in the audit log in the clear (they may hold a password).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { checkPooler, loadSettings } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/index.js';
import { decodeLeaf } from '../src/audit/record.js';
import { openCarewall } from '../src/runtime.js';
import { createLogger } from '../src/log.js';
import { prepareInstallation, tempDir } from './helpers/harness.js';
import { sharedPostgres, sharedPostgresUnavailable } from './helpers/sharedPostgres.js';

describe('DATABASE_POOLER', () => {
  test("'transaction' or 'session' or nothing; anything else is refused before the server starts", () => {
    assert.equal(checkPooler('transaction'), 'transaction');
    assert.equal(checkPooler('session'), undefined);
    assert.equal(checkPooler(''), undefined);
    assert.equal(checkPooler(undefined), undefined);
    assert.throws(() => checkPooler('statement'), /DATABASE_POOLER must be 'transaction'/);
    assert.throws(() => loadSettings(tempDir(), { DATABASE_POOLER: 'yes' }), /DATABASE_POOLER/);
  });
});

describe('through a pooler, on a PostgreSQL server', { skip: sharedPostgresUnavailable() }, () => {
  let admin: string;
  let url: string;
  const name = `carewall_scale_${process.pid}`;
  before(async () => {
    admin = await sharedPostgres();
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`drop database if exists ${name}`);
    await c.query(`create database ${name}`);
    await c.end();
    const u = new URL(admin);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  after(async () => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });

  /** Named statements on the connection a transaction ran a frequent (prepared) statement on. */
  const namedAfterPreparedQuery = async (db: Database) =>
    db.transaction(async (tx) => {
      await tx.query('select $1::int + 1 as n', [41], { prepare: true });
      const r = await tx.query<{ n: number }>("select count(*)::int as n from pg_prepared_statements where name like 'cw_%'");
      return r.rows[0].n;
    });

  test('a statement asked to be prepared is prepared by name directly, and never through a transaction pooler', async () => {
    const direct = await openDatabase({ databaseUrl: url, dataDir: tempDir(), poolSize: 1 });
    const pooled = await openDatabase({ databaseUrl: url, dataDir: tempDir(), poolSize: 1, pooler: 'transaction' });
    try {
      assert.equal(await namedAfterPreparedQuery(direct), 1, 'directly: prepared once per connection');
      assert.equal(await namedAfterPreparedQuery(pooled), 0, 'through a pooler: never by name');
      assert.equal((await pooled.query<{ n: number }>('select $1::int + 1 as n', [1], { prepare: true })).rows[0].n, 2, 'and the query still answers');
    } finally {
      await direct.close();
      await pooled.close();
    }
  });

  test('LISTEN goes to DATABASE_LISTEN_URL on a connection of its own, and hears what is sent', async () => {
    const listenUrl = new URL(url);
    listenUrl.searchParams.set('application_name', 'carewall_listen_probe');
    const db = await openDatabase({ databaseUrl: url, dataDir: tempDir(), listenUrl: listenUrl.toString(), pooler: 'transaction' });
    let resolveHeard: (p: string) => void = () => undefined;
    const heard = new Promise<string>((r) => (resolveHeard = r));
    const stop = await db.listen(
      'carewall_probe',
      (p) => resolveHeard(p),
      () => undefined,
    );
    try {
      const sessions = await db.query<{ query: string }>(
        "select query from pg_stat_activity where application_name = 'carewall_listen_probe' and datname = current_database()",
      );
      assert.deepEqual(
        sessions.rows.map((r) => r.query.trim().toLowerCase()),
        ['listen carewall_probe'],
        'one session at the listen address, and it is the LISTEN',
      );
      await db.query("select pg_notify('carewall_probe', 'hello')");
      assert.equal(await heard, 'hello');
    } finally {
      await stop();
      await db.close();
    }
  });
});

test('the database addresses are recorded as digests only: a password in them never reaches the audit log', async () => {
  const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } }, { neverStarted: true });
  const secret = 'pw-never-logged-4711';
  // With trust authentication (the test servers) the password is accepted and ignored.
  const withPassword = (u: string) => {
    const parsed = new URL(u);
    parsed.password = secret;
    return parsed.toString();
  };
  const settings = {
    ...inst.settings,
    databaseUrl: inst.settings.databaseUrl && withPassword(inst.settings.databaseUrl),
    databaseListenUrl: withPassword(inst.settings.databaseUrl ?? 'postgres://carewall@db.clinic.example/carewall'),
  };
  const cw = await openCarewall(settings, createLogger('silent'));
  try {
    const { size } = await cw.audit.log.head();
    const records = (await cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf));
    const change = records.find((r) => r.action === 'configuration.change');
    assert.ok(change, 'the first start records the settings');
    const recorded = JSON.stringify(records);
    assert.ok(!recorded.includes(secret), 'no password in any record');
    const changed = (change.explanation as { changed: Array<{ setting: string; to: unknown }> }).changed;
    const listen = changed.find((c) => c.setting === 'databaseListenUrl');
    assert.match(String(listen?.to), /^sha256:[0-9a-f]{16}$/, 'the listen address as a digest');
  } finally {
    await cw.close();
    await inst.cleanup();
  }
});
