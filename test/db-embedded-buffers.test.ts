/**
 * The embedded database's page cache is a setting (CAREWALL_EMBEDDED_BUFFERS_MB): a clinic with a large
 * database can give it more memory, and the test suite, which opens hundreds of databases, gives it
 * less because PGlite zeroes all of it at each open.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { embeddedBuffersMb, openDatabase } from '../src/db/database.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-buffers-'));
  dirs.push(dir);
  return dir;
}

/** Runs `fn` with CAREWALL_EMBEDDED_BUFFERS_MB set to `value` (or unset), then puts it back. */
async function withSetting<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.CAREWALL_EMBEDDED_BUFFERS_MB;
  if (value === undefined) delete process.env.CAREWALL_EMBEDDED_BUFFERS_MB;
  else process.env.CAREWALL_EMBEDDED_BUFFERS_MB = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.CAREWALL_EMBEDDED_BUFFERS_MB;
    else process.env.CAREWALL_EMBEDDED_BUFFERS_MB = before;
  }
}

test('unset, the page cache is PostgreSQL default of 128 MB; a whole number of megabytes sets it', () => {
  assert.equal(embeddedBuffersMb({}), 128);
  assert.equal(embeddedBuffersMb({ CAREWALL_EMBEDDED_BUFFERS_MB: '' }), 128);
  assert.equal(embeddedBuffersMb({ CAREWALL_EMBEDDED_BUFFERS_MB: '16' }), 16);
  assert.equal(embeddedBuffersMb({ CAREWALL_EMBEDDED_BUFFERS_MB: '1024' }), 1024);
});

test('anything but a whole number of megabytes from 1 to 16384 is refused, without repeating it', () => {
  for (const bad of ['0', '-4', '1.5', '16MB', 'lots', '99999']) {
    assert.throws(
      () => embeddedBuffersMb({ CAREWALL_EMBEDDED_BUFFERS_MB: bad }),
      (err: Error) => /CAREWALL_EMBEDDED_BUFFERS_MB must be a whole number of megabytes/.test(err.message) && !err.message.includes(bad),
      bad,
    );
  }
});

/** One folder for the tests that open a database: creating one is the slow part. */
const dataDir = scratch();

test('the embedded database opens with the page cache the setting names', async () => {
  const db = await withSetting('24', () => openDatabase({ dataDir }));
  try {
    const { rows } = await db.query<{ shared_buffers: string }>('show shared_buffers');
    assert.equal(rows[0].shared_buffers, '24MB');
  } finally {
    await db.close();
  }
  const reopened = await withSetting(undefined, () => openDatabase({ dataDir }));
  try {
    const { rows } = await reopened.query<{ shared_buffers: string }>('show shared_buffers');
    assert.equal(rows[0].shared_buffers, '128MB');
  } finally {
    await reopened.close();
  }
});

test('a bad setting stops the open and leaves the data folder free for the next one', async () => {
  await assert.rejects(
    withSetting('none', () => openDatabase({ dataDir })),
    /CAREWALL_EMBEDDED_BUFFERS_MB/,
  );
  const db = await withSetting('16', () => openDatabase({ dataDir }));
  try {
    assert.deepEqual((await db.query<{ one: number }>('select 1 as one')).rows, [{ one: 1 }]);
  } finally {
    await db.close();
  }
});
