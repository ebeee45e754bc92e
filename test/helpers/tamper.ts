/**
 * What an intruder with database access does to the audit log's leaves, written against the
 * storage itself (audit_bundle, audit_tail) so that tests try the attacks for real.
 */
import type { Database } from '../../src/db/database.js';
import { toBuffer } from '../../src/db/database.js';
import { BUNDLE_SIZE, DEFLATED, decodeBundle, encodeBundle, packBundle, PLAIN, unpackBundle } from '../../src/audit/bundles.js';

/** A bundle's stored bytes in the given codec, as the log writes them. */
export async function storedBundle(leaves: Buffer[], codec: number): Promise<Buffer> {
  return codec === PLAIN ? encodeBundle(leaves) : packBundle(leaves);
}

/** Replaces the stored bytes of leaf `index`, rewriting its bundle consistently (in its own codec) where it has one. */
export async function changeStoredLeaf(db: Database, index: number, bytes: Buffer): Promise<void> {
  const unit = Math.floor(index / BUNDLE_SIZE);
  const row = (await db.query<{ codec: number; entries: unknown }>('select codec, entries from audit_bundle where idx = $1', [unit])).rows[0];
  if (!row) {
    await db.query('update audit_tail set leaf = $2 where leaf_index = $1', [index, bytes]);
    return;
  }
  const plain = unpackBundle(row.codec, toBuffer(row.entries));
  const leaves = typeof plain === 'string' ? plain : decodeBundle(plain);
  if (typeof leaves === 'string') throw new Error(leaves);
  leaves[index - unit * BUNDLE_SIZE] = bytes;
  await db.query('update audit_bundle set entries = $2 where idx = $1', [
    unit,
    await storedBundle(
      leaves.map((l) => Buffer.from(l)),
      row.codec,
    ),
  ]);
}

/**
 * Stores `leaves` as the whole log's leaves (well-formed bundles and tail), leaving the tree's
 * hashes as they are; bundles compressed as the log writes them, or plain (as before audit
 * migration 5).
 */
export async function relayoutLeaves(db: Database, leaves: Buffer[], codec = DEFLATED): Promise<void> {
  await db.exec('delete from audit_bundle; delete from audit_tail');
  const whole = leaves.length - (leaves.length % BUNDLE_SIZE);
  for (let at = 0; at < whole; at += BUNDLE_SIZE) {
    await db.query('insert into audit_bundle (idx, codec, entries) values ($1, $2, $3)', [
      at / BUNDLE_SIZE,
      codec,
      await storedBundle(leaves.slice(at, at + BUNDLE_SIZE), codec),
    ]);
  }
  for (let i = whole; i < leaves.length; i++) await db.query('insert into audit_tail (leaf_index, leaf) values ($1, $2)', [i, leaves[i]]);
}
