/**
 * Where the log's leaf bytes live. Leaves are kept in bundles of BUNDLE_SIZE consecutive leaves
 * (table audit_bundle), the entry bundles of C2SP tlog-tiles: the leaves of a unit not yet
 * complete wait in audit_tail, one row each, and move into their bundle, in the same transaction,
 * when the append that completes the unit commits. Leaf i lives in bundle floor(i / BUNDLE_SIZE)
 * when that bundle exists, else in audit_tail.
 *
 * Why bundles: verification reads every leaf, and reading a million rows of 650 bytes costs the
 * database (and, embedded, the one thread Carewall runs on) more than hashing them; four thousand
 * rows of 160 KB stream at memory speed.
 *
 * The bytes of a bundle, and how they are stored compressed: bundles.ts.
 */
import type { Queryable } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { bindPacked } from '../db/index.js';
import { BUNDLE_HEADER, BUNDLE_SIZE, decodeBundle, DEFLATED, packBundle, PLAIN, unpackBundle } from './bundles.js';
import type { WriteBatch } from '../db/index.js';

/** Leaves [from, to) as stored, in index order; missing leaves are simply absent. */
export async function readLeaves(q: Queryable, from: number, to: number): Promise<Array<{ index: number; leaf: Buffer }>> {
  const { leaves, problems } = await inspectLeaves(q, from, to);
  const damaged = problems.find((p) => p.damaged);
  if (damaged) throw new Error(`audit log: ${damaged.message}: run carewall audit verify`);
  return leaves;
}

/**
 * Leaves [from, to) as readLeaves gives them, and what is out of place in their storage: a bundle
 * whose bytes are not a bundle (damaged: its leaves are missing), or a leaf stored both in its
 * bundle and in audit_tail (the bundle's copy is the leaf).
 */
export async function inspectLeaves(
  q: Queryable,
  from: number,
  to: number,
): Promise<{ leaves: Array<{ index: number; leaf: Buffer }>; problems: Array<{ index: number; message: string; damaged?: boolean }> }> {
  const problems: Array<{ index: number; message: string; damaged?: boolean }> = [];
  if (to <= from) return { leaves: [], problems };
  const [bundles, tail] = await Promise.all([
    q.query<{ idx: string | number; codec: number; entries: unknown }>(
      'select idx, codec, entries from audit_bundle where idx >= $1 and idx < $2 order by idx',
      [Math.floor(from / BUNDLE_SIZE), Math.ceil(to / BUNDLE_SIZE)],
    ),
    q.query<{ leaf_index: string | number; leaf: unknown }>(
      'select leaf_index, leaf from audit_tail where leaf_index >= $1 and leaf_index < $2 order by leaf_index',
      [from, to],
    ),
  ]);
  const found = new Map<number, Buffer>();
  for (const row of tail.rows) found.set(Number(row.leaf_index), toBuffer(row.leaf));
  for (const row of bundles.rows) {
    const first = Number(row.idx) * BUNDLE_SIZE;
    const bytes = unpackBundle(row.codec, toBuffer(row.entries));
    const leaves = typeof bytes === 'string' ? bytes : decodeBundle(bytes);
    if (typeof leaves === 'string') {
      problems.push({ index: Math.max(first, from), message: `bundle ${row.idx} (records ${first}..${first + BUNDLE_SIZE - 1}): ${leaves}`, damaged: true });
      for (let k = 0; k < BUNDLE_SIZE; k++) found.delete(first + k);
      continue;
    }
    leaves.forEach((leaf, k) => {
      if (first + k < from || first + k >= to) return;
      if (found.has(first + k)) problems.push({ index: first + k, message: `record ${first + k} is stored twice (in its bundle and in audit_tail)` });
      found.set(first + k, leaf);
    });
  }
  return { leaves: [...found.entries()].sort((a, b) => a[0] - b[0]).map(([index, leaf]) => ({ index, leaf })), problems };
}

/** The first leaf index at or after `from` that is stored anywhere, if any. */
export async function nextStoredIndex(q: Queryable, from: number): Promise<number | undefined> {
  const r = await q.query<{ n: string | number | null }>(
    `select least((select min(idx) * ${BUNDLE_SIZE} from audit_bundle where idx >= $2), (select min(leaf_index) from audit_tail where leaf_index >= $1)) as n`,
    [from, Math.floor(from / BUNDLE_SIZE)],
  );
  const n = r.rows[0]?.n;
  return n === null || n === undefined ? undefined : Math.max(from, Number(n));
}

/**
 * The leaves at the given indexes (any order, any spread): two queries however many bundles they
 * come from. Each compressed bundle wanted is fetched and inflated once; from a plain one only its
 * index and the entries wanted are read.
 */
export async function readLeavesAt(q: Queryable, indexes: number[]): Promise<Map<number, Buffer>> {
  const found = new Map<number, Buffer>();
  if (indexes.length === 0) return found;
  const wanted = [...new Set(indexes)];
  const units = [...new Set(wanted.map((i) => Math.floor(i / BUNDLE_SIZE)))];
  const [heads, tail] = await Promise.all([
    q.query<{ idx: string | number; codec: number; head: unknown }>(
      `select idx, codec, case when codec = ${PLAIN} then substring(entries from 1 for ${BUNDLE_HEADER}) else entries end as head from audit_bundle where idx = any($1::bigint[])`,
      [units],
    ),
    q.query<{ leaf_index: string | number; leaf: unknown }>('select leaf_index, leaf from audit_tail where leaf_index = any($1::bigint[])', [wanted]),
  ]);
  for (const row of tail.rows) found.set(Number(row.leaf_index), toBuffer(row.leaf));
  const damaged = (unit: number) => new Error(`audit log: bundle ${unit} is damaged: run carewall audit verify`);
  // Per bundle: its plain header (substrings of the leaves are then read), or all its leaves.
  const headerOf = new Map<number, Buffer>();
  const leavesOf = new Map<number, Buffer[]>();
  for (const row of heads.rows) {
    const unit = Number(row.idx);
    if (row.codec === PLAIN) {
      headerOf.set(unit, toBuffer(row.head));
      continue;
    }
    const bytes = unpackBundle(row.codec, toBuffer(row.head));
    const leaves = typeof bytes === 'string' ? bytes : decodeBundle(bytes);
    if (typeof leaves === 'string') throw damaged(unit);
    leavesOf.set(unit, leaves);
  }
  const slices: Array<{ index: number; unit: number; start: number; length: number }> = [];
  for (const index of wanted) {
    const unit = Math.floor(index / BUNDLE_SIZE);
    const k = index - unit * BUNDLE_SIZE;
    const leaves = leavesOf.get(unit);
    if (leaves) {
      found.set(index, Buffer.from(leaves[k])); // a copy: the bundle's 160 KB are not kept for one leaf
      continue;
    }
    const header = headerOf.get(unit);
    if (!header) continue;
    if (header.length < BUNDLE_HEADER) throw damaged(unit);
    const start = k === 0 ? 0 : header.readUInt32BE(4 * (k - 1));
    const end = header.readUInt32BE(4 * k);
    if (end < start) throw damaged(unit);
    found.delete(index);
    slices.push({ index, unit, start, length: end - start });
  }
  if (slices.length > 0) {
    // substring of an uncompressed out-of-line value reads only the chunks it spans.
    const r = await q.query<{ i: number; leaf: unknown }>(
      `select s.i, substring(b.entries from ${BUNDLE_HEADER + 1} + s.start for s.length) as leaf
         from unnest($1::int[], $2::bigint[], $3::int[], $4::int[]) as s(i, unit, start, length)
         join audit_bundle b on b.idx = s.unit`,
      [slices.map((_, i) => i), slices.map((s) => s.unit), slices.map((s) => s.start), slices.map((s) => s.length)],
    );
    for (const row of r.rows) found.set(slices[row.i].index, toBuffer(row.leaf));
  }
  return found;
}

/**
 * Adds to `writes` the storing of leaves [n, n + leaves.length), inside an append's transaction (the
 * caller holds the sequencer lock): completed units become bundles (their earlier leaves are taken
 * from audit_tail), the rest waits in audit_tail. Reads the current unit's earlier leaves first, and
 * refuses when audit_tail does not hold exactly those, as for a damaged tree.
 */
export async function storeLeaves(tx: Queryable, n: number, leaves: Buffer[], writes: WriteBatch): Promise<void> {
  const end = n + leaves.length;
  const unitStart = n - (n % BUNDLE_SIZE);
  const completeUpTo = end - (end % BUNDLE_SIZE);
  let pending: Buffer[] = [];
  if (completeUpTo > unitStart && n > unitStart) {
    const r = await tx.query<{ leaf_index: string | number; leaf: unknown }>(
      'select leaf_index, leaf from audit_tail where leaf_index >= $1 order by leaf_index',
      [unitStart],
    );
    if (r.rows.length !== n - unitStart || r.rows.some((row, i) => Number(row.leaf_index) !== unitStart + i)) {
      throw new Error(
        `the stored log is damaged (the records waiting for bundle ${unitStart / BUNDLE_SIZE} are not ${unitStart}..${n - 1}): run carewall audit verify`,
      );
    }
    pending = r.rows.map((row) => toBuffer(row.leaf));
  }
  const bundles: Array<{ idx: number; entries: Buffer }> = [];
  let i = 0;
  for (let unit = unitStart; unit < completeUpTo; unit += BUNDLE_SIZE) {
    const take = unit + BUNDLE_SIZE - Math.max(n, unit);
    const members = [...(unit === unitStart ? pending : []), ...leaves.slice(i, i + take)];
    i += take;
    bundles.push({ idx: unit / BUNDLE_SIZE, entries: await packBundle(members) });
  }
  const b = writes.bind;
  if (bundles.length > 0) {
    const entries = bindPacked(
      b,
      bundles.map((x) => x.entries),
    );
    writes.add(
      `insert into audit_bundle (idx, codec, entries) select i, ${DEFLATED}, ${entries.value} from unnest(${b(bundles.map((x) => x.idx))}::bigint[], ${entries.unnest}) as x(i, s, l)`,
    );
    // The rows deleted are the ones read above; the rows inserted below lie past completeUpTo.
    if (n > unitStart) writes.add(`delete from audit_tail where leaf_index >= ${b(unitStart)} and leaf_index < ${b(n)}`);
  }
  if (i < leaves.length) {
    const rest = bindPacked(b, leaves.slice(i));
    writes.add(
      `insert into audit_tail (leaf_index, leaf) select ${b(n + i)}::bigint + k - 1, ${rest.value} from unnest(${rest.unnest}) with ordinality as x(s, l, k)`,
    );
  }
}
