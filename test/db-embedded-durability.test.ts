/**
 * The embedded database flushes what it commits to the disk (src/db/embeddedDurability.ts): PGlite's
 * own defaults (fsync off, and a file system whose fsync does nothing) left every commit in the
 * operating system's cache, lost to a power cut after the server had acknowledged it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { openDatabase, type Queryable } from '../src/db/database.js';
import { EmbeddedHost, openEmbeddedEngine, type HostRequest } from '../src/db/embeddedHost.js';
import { tempDir } from './helpers/tempDir.js';

type Request = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

test('the database the server opens runs the engine with fsync on, flushing its log with fsync', async () => {
  const db = await openDatabase({ dataDir: tempDir() });
  try {
    assert.deepEqual((await db.query('show fsync')).rows, [{ fsync: 'on' }]);
    assert.deepEqual((await db.query('show wal_sync_method')).rows, [{ wal_sync_method: 'fsync' }]);
  } finally {
    await db.close();
  }
});

/**
 * The flushes are counted on this thread: the engine runs here with the same code that answers the
 * server on the engine's own thread (embeddedHost.ts), since a mock on this thread does not reach another.
 */
describe('the embedded database flushes its commits to the disk', () => {
  let engine: Awaited<ReturnType<typeof openEmbeddedEngine>>;
  let host: EmbeddedHost;
  let ids = 0;
  const ask = <T>(r: Request) => host.handle({ ...r, id: ++ids } as HostRequest) as Promise<T>;
  let transactions = 0;
  const db = {
    query: (sql: string, params: unknown[] = []) => ask<{ rows: unknown[] }>({ op: 'query', sql, params }),
    exec: (sql: string) => ask({ op: 'exec', sql }),
    async transaction(fn: (tx: Pick<Queryable, 'query'>) => Promise<void>) {
      const tx = ++transactions;
      await ask({ op: 'begin', tx, statements: [] });
      await fn({ query: async (sql, params) => await ask<{ rows: never[]; rowCount: number }>({ op: 'query', sql, params: params ?? [], tx }) });
      await ask({ op: 'end', tx, commit: true });
    },
  };
  /** The files flushed since the last look, by their paths. */
  let flushed: string[] = [];
  before(async () => {
    engine = await openEmbeddedEngine(path.join(tempDir(), 'pgdata'), 16);
    host = new EmbeddedHost(engine, () => undefined);
    await db.exec('create table durable (id int primary key, note text)');
    const real = fs.fdatasyncSync;
    mock.method(fs, 'fdatasyncSync', (fd: number) => {
      flushed.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
      real(fd);
    });
  });
  after(async () => {
    mock.restoreAll();
    await engine.close();
  });
  const look = () => {
    const seen = flushed;
    flushed = [];
    return seen;
  };

  test('PostgreSQL runs with fsync on, flushing its log with fsync (the call that reaches the file system)', async () => {
    assert.deepEqual((await db.query('show fsync')).rows, [{ fsync: 'on' }]);
    assert.deepEqual((await db.query('show wal_sync_method')).rows, [{ wal_sync_method: 'fsync' }]);
  });

  test('a commit has flushed the write-ahead log by the time it returns, alone or in a transaction', async () => {
    look();
    await db.query('insert into durable values ($1, $2)', [1, 'one']);
    assert.ok(
      look().some((p) => p.includes('/pg_wal/')),
      'the log was flushed',
    );
    await db.transaction(async (tx) => {
      await tx.query('insert into durable values ($1, $2)', [2, 'two']);
    });
    assert.ok(
      look().some((p) => p.includes('/pg_wal/')),
      'the transaction’s log was flushed',
    );
  });

  test('a read flushes nothing; a checkpoint flushes the data files', async () => {
    look();
    await db.query('select note from durable where id = $1', [1]);
    assert.deepEqual(look(), []);
    await db.query('update durable set note = $1 where id = $2', ['uno', 1]);
    await db.exec('checkpoint');
    assert.ok(
      look().some((p) => p.includes('/base/')),
      'a table file was flushed',
    );
  });
});
