/**
 * Rows of the repository: published metadata (write-once, one row per version) and images
 * (content-addressed, written once, in chunks so that a large image is never one huge value).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Database, Queryable } from '../db/index.js';

/** 1 MiB: an image of hundreds of megabytes is some hundreds of modest rows. */
export const CHUNK_BYTES = 1024 * 1024;

export interface StoredMetadata {
  version: number;
  body: Buffer;
  expiresAt: Date;
}

export async function latestMetadata(q: Queryable, role: string): Promise<StoredMetadata | undefined> {
  const r = await q.query<{ version: number; body: Buffer; expires_at: Date }>(
    'select version, body, expires_at from updates_metadata where role = $1 order by version desc limit 1',
    [role],
  );
  const row = r.rows[0];
  return row && { version: row.version, body: row.body, expiresAt: new Date(row.expires_at) };
}

export async function metadataVersion(q: Queryable, role: string, version: number): Promise<Buffer | undefined> {
  const r = await q.query<{ body: Buffer }>('select body from updates_metadata where role = $1 and version = $2', [role, version]);
  return r.rows[0]?.body;
}

export async function insertMetadata(q: Queryable, role: string, version: number, body: Buffer, expires: string): Promise<void> {
  // A plain insert: a version already there is an error, never replaced.
  await q.query('insert into updates_metadata (role, version, body, expires_at) values ($1, $2, $3, $4)', [role, version, body, expires]);
}

async function hashFile(file: string): Promise<{ sha256: string; length: number }> {
  const hash = crypto.createHash('sha256');
  let length = 0;
  for await (const piece of fs.createReadStream(file)) {
    hash.update(piece as Buffer);
    length += (piece as Buffer).length;
  }
  return { sha256: hash.digest('hex'), length };
}

/**
 * Keeps an image; returns its SHA-256 and length. An image already kept is not written again. The
 * file is read twice (the hash names the rows before they are written); if it changed in between,
 * nothing is kept.
 */
export async function putBlobFromFile(db: Database, file: string): Promise<{ sha256: string; length: number }> {
  const { sha256, length } = await hashFile(file);
  const known = await db.query('select 1 from updates_blob where sha256 = $1', [sha256]);
  if (known.rows.length > 0) return { sha256, length };
  await db.transaction(async (tx) => {
    await tx.query('insert into updates_blob (sha256, length) values ($1, $2)', [sha256, length]);
    const again = crypto.createHash('sha256');
    let n = 0;
    let seen = 0;
    for await (const piece of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
      const bytes = piece as Buffer;
      again.update(bytes);
      seen += bytes.length;
      await tx.query('insert into updates_blob_chunk (sha256, n, bytes) values ($1, $2, $3)', [sha256, n++, bytes]);
    }
    if (seen !== length || again.digest('hex') !== sha256) throw new Error(`${file} changed while it was being read; nothing was kept`);
  });
  return { sha256, length };
}

/** A released image: its recorded length and its chunks in order, read one at a time. */
export async function releasedBlob(db: Database, path: string, sha256: string): Promise<{ length: number; chunks: AsyncIterable<Buffer> } | undefined> {
  const r = await db.query<{ length: string }>(
    `select b.length from updates_blob b where b.sha256 = $1
       and exists (select 1 from updates_release r where r.path = $2 and r.sha256 = b.sha256)`,
    [sha256, path],
  );
  if (r.rows.length === 0) return undefined;
  async function* chunks(): AsyncIterable<Buffer> {
    for (let n = 0; ; n++) {
      const c = await db.query<{ bytes: Buffer }>('select bytes from updates_blob_chunk where sha256 = $1 and n = $2', [sha256, n]);
      if (c.rows.length === 0) return;
      yield Buffer.from(c.rows[0].bytes);
    }
  }
  return { length: Number(r.rows[0].length), chunks: chunks() };
}
