/**
 * The embedded database flushes what it commits to the disk (src/db/embeddedDurability.ts): PGlite's
 * own defaults (fsync off, and a file system whose fsync does nothing) left every commit in the
 * operating system's cache, lost to a power cut after the server had acknowledged it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, mock, test } from 'node:test';
import { openDatabase, type Database } from '../src/db/database.js';
import { tempDir } from './helpers/tempDir.js';

describe('the embedded database flushes its commits to the disk', () => {
  let db: Database;
  /** The files flushed since the last look, by their paths. */
  let flushed: string[] = [];
  before(async () => {
    db = await openDatabase({ dataDir: tempDir() });
    await db.exec('create table durable (id int primary key, note text)');
    const real = fs.fdatasyncSync;
    mock.method(fs, 'fdatasyncSync', (fd: number) => {
      flushed.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
      real(fd);
    });
  });
  after(async () => {
    mock.restoreAll();
    await db.close();
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
