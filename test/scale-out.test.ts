/**
 * What lets Carewall run through a transaction-pooling PgBouncer and read from a streaming replica
 * (docs/scale-out.md), short of the cluster itself (test/cluster/, `npm run test:cluster`):
 *  - DATABASE_POOLER=transaction: no statement is ever prepared under a name (a pooler hands the
 *    next transaction to another server connection, where the name does not exist);
 *  - DATABASE_LISTEN_URL: LISTEN goes to a session connection of its own, at that address;
 *  - neither connection string is kept in the audit log in the clear (they may hold a password);
 *  - a replica answers a caller only while it is within a second of the primary and has replayed
 *    the caller's own last write (the bookkeeping, with a clock of the test's own).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { checkPooler, loadSettings } from '../src/config.js';
import { parseLsn, ReplicaFreshness, ReplicaRoute, REPLICA_FRESHNESS_MS } from '../src/db/replica.js';
import { DatabaseUnavailableError } from '../src/db/index.js';
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

describe('when a replica may answer', () => {
  const lsn = (n: number) => `${Math.floor(n / 2 ** 32).toString(16)}/${(n % 2 ** 32).toString(16)}`;

  test('WAL positions compare as numbers across the high word; anything else is not a position', () => {
    assert.ok(parseLsn('0/FFFFFFFF') < parseLsn('1/0'));
    assert.equal(parseLsn('16/B374D848'), (0x16n << 32n) + 0xb374d848n);
    assert.throws(() => parseLsn('0/0; drop table x'), /not a WAL position/);
  });

  test("only while the replica holds what the primary had at most a second ago, and only after the caller's own writes", () => {
    let now = 10_000;
    const f = new ReplicaFreshness(() => now);
    assert.equal(f.usableAfter('0/0'), false, 'nothing known yet');
    f.primaryAt(10_000, 100n);
    f.replicaAt(100n);
    assert.equal(f.usableAfter('0/0'), true, 'caught up with the primary as of now');
    assert.equal(f.usableAfter(lsn(100)), true, "the caller's write is replayed");
    assert.equal(f.usableAfter(lsn(101)), false, "the caller's own write is not replayed yet: the primary");
    assert.equal(f.usableAfter(undefined), false, 'a caller whose writes are unknown: the primary');
    assert.equal(f.usableAfter('nonsense'), false);

    // The primary moves on; the replica stops replaying (a long query on it, a cut network).
    for (let t = 10_200; t <= 12_000; t += 200) {
      now = t;
      f.primaryAt(t, BigInt(100 + t));
      f.replicaAt(100n);
      const withinASecond = t - 10_000 <= REPLICA_FRESHNESS_MS;
      assert.equal(f.usableAfter('0/0'), withinASecond, `${t - 10_000} ms after the replica last caught up`);
    }
    // It catches up with the sample taken at 11,800: fresh as of then.
    f.replicaAt(BigInt(100 + 11_800));
    now = 12_500;
    assert.equal(f.usableAfter('0/0'), true);
    now = 11_800 + REPLICA_FRESHNESS_MS + 1;
    assert.equal(f.usableAfter('0/0'), false, 'with no newer sample, freshness ages out by itself');

    f.replicaAt(undefined); // unreachable, or promoted (no longer in recovery)
    now = 11_900;
    assert.equal(f.usableAfter('0/0'), false);
  });

  test('the route samples both servers, sends reads to the replica while usable, and falls back to the primary when it fails', async () => {
    let now = 50_000;
    const asked: string[] = [];
    let primaryPosition = '0/500';
    let replicaReplay: string | null = '0/500';
    let replicaDown = false;
    const primary = {
      query: async <T>(sql: string) => {
        asked.push(`primary: ${sql}`);
        return { rows: [{ p: primaryPosition } as T], rowCount: 1 };
      },
      exec: async () => undefined,
    };
    const replica = async <T>(sql: string) => {
      asked.push(`replica: ${sql}`);
      if (replicaDown) throw new DatabaseUnavailableError('replica away');
      return { rows: [{ p: replicaReplay } as T], rowCount: 1 };
    };
    const route = new ReplicaRoute(primary, replica, () => now);
    await route.sample();
    asked.length = 0;
    await route.reader('0/400').query('select 1');
    assert.deepEqual(asked, ['replica: select 1'], 'caught up: the replica answers');

    asked.length = 0;
    await route.reader('0/600').query('select 2');
    assert.deepEqual(asked, ['primary: select 2'], "not yet the caller's own write: the primary");

    replicaDown = true;
    asked.length = 0;
    await route.reader('0/400').query('select 3');
    assert.deepEqual(asked, ['replica: select 3', 'primary: select 3'], 'a replica that fails hands the read to the primary');
    asked.length = 0;
    await route.reader('0/400').query('select 4');
    assert.deepEqual(asked, ['primary: select 4'], 'and is left alone until a sample finds it again');

    replicaDown = false;
    replicaReplay = null; // promoted: no longer replaying anything
    primaryPosition = '0/700';
    now += 200;
    await route.sample();
    asked.length = 0;
    await route.reader('0/400').query('select 5');
    assert.deepEqual(asked, ['primary: select 5'], 'a replica that left recovery is not read as one');
  });
});
