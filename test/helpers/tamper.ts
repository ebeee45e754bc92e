/**
 * What an intruder with database access does to the audit log's leaves, written against the
 * storage itself (audit_bundle, audit_tail) so that tests try the attacks for real.
 */
import type { Database } from '../../src/db/database.js';
import { toBuffer } from '../../src/db/database.js';
import { BUNDLE_SIZE, decodeBundle, encodeBundle } from '../../src/audit/leafStore.js';

/** Replaces the stored bytes of leaf `index`, rewriting its bundle consistently where it has one. */
export async function changeStoredLeaf(db: Database, index: number, bytes: Buffer): Promise<void> {
  const unit = Math.floor(index / BUNDLE_SIZE);
  const row = (await db.query<{ entries: unknown }>('select entries from audit_bundle where idx = $1', [unit])).rows[0];
  if (!row) {
    await db.query('update audit_tail set leaf = $2 where leaf_index = $1', [index, bytes]);
    return;
  }
  const leaves = decodeBundle(toBuffer(row.entries));
  if (typeof leaves === 'string') throw new Error(leaves);
  leaves[index - unit * BUNDLE_SIZE] = bytes;
  await db.query('update audit_bundle set entries = $2 where idx = $1', [unit, encodeBundle(leaves.map((l) => Buffer.from(l)))]);
}

/** Stores `leaves` as the whole log's leaves (well-formed bundles and tail), leaving the tree's hashes as they are. */
export async function relayoutLeaves(db: Database, leaves: Buffer[]): Promise<void> {
  await db.exec('delete from audit_bundle; delete from audit_tail');
  const whole = leaves.length - (leaves.length % BUNDLE_SIZE);
  for (let at = 0; at < whole; at += BUNDLE_SIZE) {
    await db.query('insert into audit_bundle (idx, entries) values ($1, $2)', [at / BUNDLE_SIZE, encodeBundle(leaves.slice(at, at + BUNDLE_SIZE))]);
  }
  for (let i = whole; i < leaves.length; i++) await db.query('insert into audit_tail (leaf_index, leaf) values ($1, $2)', [i, leaves[i]]);
}
