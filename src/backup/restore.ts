/**
 * Restores: a whole Carewall into an empty data folder (and an empty database), files of a share
 * as of a chosen time, and "undo the attack" (exactly the files changed since a moment, from the
 * last snapshot before it). A restore never overwrites: files in the way stop it before anything
 * is written, unless asked to move them aside (they are renamed, never deleted).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Database } from '../db/index.js';
import { migrate, type Migration } from '../db/index.js';
import type { FileEntry, Manifest, RepositoryReader, SnapshotInfo } from './repository.js';

export class RestoreRefusedError extends Error {}

/** The newest snapshot taken at or before `at` (holding `share`, when given). */
export function snapshotAsOf(
  snapshots: SnapshotInfo[],
  at: Date,
  opts: { share?: string; strictlyBefore?: boolean; withDatabase?: boolean } = {},
): SnapshotInfo {
  const found = snapshots
    .filter((s) => {
      const t = Date.parse(s.manifest.time);
      return (
        (opts.strictlyBefore ? t < at.getTime() : t <= at.getTime()) &&
        (!opts.share || (s.manifest.shares[opts.share] && !s.manifest.shares[opts.share].partial)) &&
        (!opts.withDatabase || s.manifest.database)
      );
    })
    .at(-1);
  if (!found)
    throw new RestoreRefusedError(
      `no snapshot${opts.share ? ` of share ${opts.share}` : ''} was taken ${opts.strictlyBefore ? 'before' : 'at or before'} ${at.toISOString()}`,
    );
  return found;
}

export interface CarewallRestoreResult {
  snapshot: string;
  tables: number;
  rows: number;
  seconds: number;
  rowCounts: Record<string, { expected: number; restored: number }>;
}

/** Tables in an order where every table comes after the tables its foreign keys name. */
async function loadOrder(db: Database, names: string[]): Promise<string[]> {
  const fks = await db.query<{ child: string; parent: string }>(
    `select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent from pg_constraint c
     join pg_namespace n on n.oid = c.connamespace where c.contype = 'f' and n.nspname = current_schema()`,
  );
  const deps = new Map(names.map((n) => [n, new Set<string>()]));
  for (const { child, parent } of fks.rows) if (child !== parent) deps.get(child)?.add(parent);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const p of deps.get(n) ?? []) visit(p);
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}

async function isEmptyDatabase(db: Database): Promise<boolean> {
  const r = await db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = current_schema()`);
  return r.rows[0].n === 0;
}

/**
 * Loads a snapshot's database into an empty one: the schema is made by the migrations the snapshot
 * had applied (no more: later ones run when Carewall opens it, as after any upgrade), then every
 * table's rows in one transaction, then the identity sequences are moved past the restored rows.
 */
export async function restoreDatabase(
  reader: RepositoryReader,
  manifest: Manifest,
  db: Database,
  migrations: Migration[],
): Promise<Pick<CarewallRestoreResult, 'tables' | 'rows' | 'rowCounts'>> {
  const part = manifest.database;
  if (!part) throw new RestoreRefusedError('this snapshot holds no database (it is a snapshot of file shares only)');
  if (!(await isEmptyDatabase(db)))
    throw new RestoreRefusedError('the target database is not empty: a restore goes into a new, empty database and never over one in use');
  const known = new Set(migrations.map((m) => `${m.module}:${m.version}`));
  const unknown = part.migrations.filter((m) => !known.has(`${m.module}:${m.version}`));
  if (unknown.length > 0)
    throw new RestoreRefusedError(
      `the snapshot was made by a newer Carewall (schema ${unknown.map((m) => `${m.module}:${m.version}`).join(', ')}): restore it with that version or later`,
    );
  const had = new Set(part.migrations.map((m) => `${m.module}:${m.version}`));
  await migrate(
    db,
    migrations.filter((m) => had.has(`${m.module}:${m.version}`)),
  );
  const byName = new Map(part.tables.map((t) => [t.name, t]));
  const order = await loadOrder(
    db,
    part.tables.map((t) => t.name).filter((n) => n !== 'schema_migrations'),
  );
  const rowCounts: CarewallRestoreResult['rowCounts'] = {};
  let rows = 0;
  await db.transaction(async (tx) => {
    // Rows a migration seeds (a cursor, a settings row) are in the snapshot too: the snapshot's win.
    for (const name of [...order].reverse()) await tx.query(`delete from ${name}`);
    for (const name of order) {
      const t = byName.get(name)!;
      // Streamed from the repository into the database: each chunk is authenticated as it is read,
      // and a short or long table fails the whole transaction.
      let bytes = 0;
      const counted = async function* () {
        for await (const c of reader.stream(t.chunks)) {
          bytes += c.length;
          yield c;
        }
      };
      if (t.rows > 0) await db.copyIn(tx, name, t.columns, counted());
      else for await (const c of counted()) void c;
      if (bytes !== t.bytes) throw new RestoreRefusedError(`table ${name}: ${bytes} bytes read back, the manifest says ${t.bytes}`);
      const restored = (await tx.query<{ n: number }>(`select count(*)::int as n from ${name}`)).rows[0].n;
      rowCounts[name] = { expected: t.rows, restored };
      if (restored !== t.rows) throw new RestoreRefusedError(`table ${name}: ${restored} rows restored, the snapshot had ${t.rows}`);
      rows += restored;
    }
    // Identity and serial columns continue after the restored rows, not from 1.
    const seqs = await tx.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns where table_schema = current_schema() and (is_identity = 'YES' or column_default like 'nextval(%')`,
    );
    for (const s of seqs.rows) {
      await tx.query(
        `select setval(pg_get_serial_sequence($1, $2), greatest((select max(${s.column_name}) from ${s.table_name}), 1), (select count(*) > 0 from ${s.table_name}))`,
        [s.table_name, s.column_name],
      );
    }
  });
  rowCounts.schema_migrations = { expected: byName.get('schema_migrations')?.rows ?? 0, restored: part.migrations.length };
  return { tables: order.length, rows, rowCounts };
}

async function writeNewFile(target: string, chunks: AsyncIterable<Buffer>, mode: number, expectSha?: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.carewall-restore-${crypto.randomBytes(4).toString('hex')}`;
  const hash = crypto.createHash('sha256');
  const fh = await fs.promises.open(tmp, 'wx', 0o600);
  try {
    for await (const c of chunks) {
      hash.update(c);
      await fh.write(c);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (expectSha && hash.digest('hex') !== expectSha) {
    await fs.promises.unlink(tmp);
    throw new RestoreRefusedError(`${target}: restored content does not match the hash the snapshot recorded`);
  }
  await fs.promises.chmod(tmp, mode & 0o777);
  // link, not rename: it fails when something appeared under the name meanwhile, which is then kept.
  try {
    await fs.promises.link(tmp, target);
  } finally {
    await fs.promises.unlink(tmp);
  }
}

/** Restores a whole installation into an empty data folder (and the empty database at `databaseUrl`, if given). */
export async function restoreCarewall(
  reader: RepositoryReader,
  snapshot: string,
  target: { dataDir: string; databaseUrl?: string },
  migrations: Migration[],
): Promise<CarewallRestoreResult> {
  const started = performance.now();
  const manifest = await reader.snapshot(snapshot);
  if (!manifest.database) throw new RestoreRefusedError(`${snapshot} holds no database (it is a snapshot of file shares only)`);
  if (fs.existsSync(target.dataDir) && fs.readdirSync(target.dataDir).length > 0) {
    throw new RestoreRefusedError(`${target.dataDir} is not empty: a whole restore goes into a new, empty data folder`);
  }
  fs.mkdirSync(target.dataDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase({ dataDir: target.dataDir, databaseUrl: target.databaseUrl });
  let counts;
  try {
    counts = await restoreDatabase(reader, manifest, db, migrations);
  } finally {
    await db.close();
  }
  // The settings file last: a folder without it is not an installation, so a failed restore is not mistaken for one.
  const settingsLast = [...manifest.config].sort((a, b) => Number(a.path === 'carewall.json') - Number(b.path === 'carewall.json'));
  for (const f of settingsLast) {
    if (!/^[a-z0-9.]+$/.test(f.path)) throw new RestoreRefusedError(`${snapshot}: unexpected configuration file name`);
    await writeNewFile(
      path.join(target.dataDir, f.path),
      reader.stream(f.chunks ?? []),
      f.path === 'audit.vkey' || f.path === 'carewall.json' ? f.mode & 0o644 : 0o600,
      f.sha256,
    );
  }
  return { snapshot, ...counts, seconds: (performance.now() - started) / 1000 };
}

export async function shareEntries(reader: RepositoryReader, manifest: Manifest, share: string): Promise<FileEntry[]> {
  const s = manifest.shares[share];
  if (!s) throw new RestoreRefusedError(`the snapshot holds no share named ${share} (it has: ${Object.keys(manifest.shares).join(', ') || 'none'})`);
  return JSON.parse((await reader.readAll(s.tree)).toString('utf8')) as FileEntry[];
}

/** A path inside a share as it was given (a file or a folder), in the snapshot's form. */
function normalise(p: string): string {
  const n = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^\/+|\/+$/g, '');
  if (n === '..' || n.startsWith('../')) throw new RestoreRefusedError(`${p}: not a path inside the share`);
  return n === '.' ? '' : n;
}

export interface FileRestoreResult {
  snapshot: string;
  time: string;
  restored: string[];
  movedAside: string[];
  bytes: number;
}

/**
 * Writes files of one share from a snapshot into `to`. `paths` (files or folders, relative to the
 * share) choose what; nothing chosen means the whole share. Files already at the destination stop
 * the restore before anything is written, or with `aside` are renamed to `<name>.carewall-aside-<time>`.
 */
export async function restoreFiles(
  reader: RepositoryReader,
  snap: SnapshotInfo,
  share: string,
  opts: { to: string; paths?: string[]; only?: Set<string>; aside?: boolean },
): Promise<FileRestoreResult> {
  const entries = await shareEntries(reader, snap.manifest, share);
  const wanted = (opts.paths ?? []).map(normalise);
  const chosen = entries.filter((e) => {
    if (e.type !== 'file') return false;
    if (opts.only && !opts.only.has(e.path)) return false;
    return wanted.length === 0 || wanted.some((w) => w === '' || e.path === w || e.path.startsWith(w + '/'));
  });
  if (wanted.length > 0 && chosen.length === 0) throw new RestoreRefusedError(`${wanted.join(', ')}: not in share ${share} as of ${snap.manifest.time}`);
  const destination = path.resolve(opts.to);
  const inTheWay: string[] = [];
  for (const e of chosen) {
    const target = path.join(destination, ...e.path.split('/'));
    if (!target.startsWith(destination + path.sep)) throw new RestoreRefusedError(`${e.path}: not a path inside the share`);
    if (fs.existsSync(target)) inTheWay.push(target);
  }
  if (inTheWay.length > 0 && !opts.aside) {
    throw new RestoreRefusedError(
      `${inTheWay.length} file(s) already exist at the destination (first: ${inTheWay[0]}); nothing was written. Restore elsewhere, or move them aside with --aside`,
    );
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const movedAside: string[] = [];
  for (const t of inTheWay) {
    const aside = `${t}.carewall-aside-${stamp}`;
    await fs.promises.rename(t, aside);
    movedAside.push(aside);
  }
  const restored: string[] = [];
  let bytes = 0;
  for (const e of chosen) {
    await writeNewFile(path.join(destination, ...e.path.split('/')), reader.stream(e.chunks ?? []), e.mode, e.sha256);
    await fs.promises.utimes(path.join(destination, ...e.path.split('/')), new Date(), new Date(e.mtimeMs));
    restored.push(e.path);
    bytes += e.size;
  }
  return { snapshot: snap.name, time: snap.manifest.time, restored, movedAside, bytes };
}

export interface UndoPlan {
  snapshot: SnapshotInfo;
  /** Files of the snapshot that are now changed or gone: these are restored. */
  changed: string[];
  /** Files that did not exist in the snapshot (an attacker's copies, ransom notes, new work): left alone, listed. */
  added: string[];
}

/**
 * "Undo the attack": compares the share as it is with the last snapshot taken before `since`.
 * A file counts as changed when it is missing, or modified since `since` and different in content.
 */
export async function planUndo(reader: RepositoryReader, snapshots: SnapshotInfo[], share: string, root: string, since: Date): Promise<UndoPlan> {
  const snap = snapshotAsOf(snapshots, since, { share, strictlyBefore: true });
  const entries = (await shareEntries(reader, snap.manifest, share)).filter((e) => e.type === 'file');
  const before = new Map(entries.map((e) => [e.path, e]));
  const changed: string[] = [];
  const added: string[] = [];
  const { walk } = await import('./snapshot.js');
  const present = new Set<string>();
  for await (const f of walk(root)) {
    if (!f.stat.isFile()) continue;
    present.add(f.rel);
    const was = before.get(f.rel);
    if (!was) {
      added.push(f.rel);
      continue;
    }
    if (f.stat.mtimeMs < since.getTime() && f.stat.ctimeMs < since.getTime() && f.stat.size === was.size) continue;
    const sha = crypto
      .createHash('sha256')
      .update(await fs.promises.readFile(f.abs))
      .digest('hex');
    if (sha !== was.sha256) changed.push(f.rel);
  }
  for (const p of before.keys()) if (!present.has(p)) changed.push(p);
  return { snapshot: snap, changed: changed.sort(), added: added.sort() };
}
