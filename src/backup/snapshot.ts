/**
 * One snapshot of Carewall: the whole database as of one moment, the installation's configuration
 * and keys (encrypted like everything else: the recovery key alone must bring Carewall back), and
 * the file shares named in carewall.json.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../db/index.js';
import { loadMasterKeys, MASTER_KEY_FILE } from '../keys/index.js';
import { VERSION } from '../version.js';
import type { DatabasePart, FileEntry, Manifest, RepositoryWriter, SharePart } from './repository.js';
import { FORMAT } from './repository.js';

/** Files of the data folder that make an installation besides its database. */
export const CONFIG_FILES = ['carewall.json', 'audit.vkey', 'backup.key'];

export interface BackupInput {
  db: Database;
  dataDir: string;
  shares: Record<string, string>;
  reason: string;
  /** Only these shares (a protective snapshot of one share); default all, with the database. */
  onlyShares?: string[];
  /** Only these files of the shares (absolute paths), each kept only if `stillGood` says so after it is stored. */
  onlyFiles?: FileSelection;
  /** Files of the shares that are not the clinic's (the ransomware guard's decoys): never stored. */
  exclude?: Set<string>;
}

/**
 * A protective snapshot's choice of files: the ransomware guard names the files the attack has not
 * reached and checks each one again once it is stored, so that a file the attacker got to during
 * the backup is not kept in its damaged state as if it were good.
 */
export interface FileSelection {
  paths: Set<string>;
  stillGood?: (abs: string) => Promise<boolean>;
  /** Filled in: files left out because they were gone or no longer good. */
  changedMeanwhile: string[];
}

/**
 * The database as of one moment: every table of the schema, through one read-only transaction,
 * each table's rows (binary COPY) into the repository.
 *
 * On PostgreSQL the rows stream from the server into the chunker inside the transaction, so a
 * table of any size passes through a few megabytes of memory, and other connections go on
 * serving meanwhile. The embedded database serves nothing else while a transaction is open, so
 * there every table is copied out first (PGlite's COPY fills a blob in memory anyway) and stored
 * once the transaction has ended.
 */
export async function storeDatabase(writer: RepositoryWriter, db: Database): Promise<DatabasePart> {
  const storeInside = db.kind === 'postgres';
  const later: Array<{ entry: DatabasePart['tables'][number]; data: Buffer }> = [];
  const part = await db.readSnapshot(async (view) => {
    const names = await view.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
    );
    const tables: DatabasePart['tables'] = [];
    for (const { table_name: name } of names.rows) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`backup: table ${JSON.stringify(name)} has a name Carewall does not make`);
      const cols = await view.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = current_schema() and table_name = $1 and is_generated = 'NEVER' order by ordinal_position`,
        [name],
      );
      const columns = cols.rows.map((c) => c.column_name);
      const rows = (await view.query<{ n: number }>(`select count(*)::int as n from ${name}`)).rows[0].n;
      const select = `select ${columns.map((c) => `"${c}"`).join(', ')} from ${name}`;
      const entry = { name, columns, rows, bytes: 0, chunks: [] as string[] };
      tables.push(entry);
      if (storeInside) {
        entry.chunks = await writer.putStream(view.copyOutStream(select), (c) => (entry.bytes += c.length));
      } else {
        later.push({ entry, data: await view.copyOut(select) });
      }
    }
    const migrations = (await view.query<{ module: string; version: number }>('select module, version from schema_migrations order by module, version')).rows;
    return { engine: db.kind, migrations, tables };
  });
  for (const { entry, data } of later.splice(0)) {
    entry.bytes = data.length;
    entry.chunks = await writer.putStream([data]);
  }
  return part;
}

/** The configuration and keys, as files of the data folder (a key given in the environment becomes a key file). */
function configFiles(dataDir: string): Array<{ path: string; data: Buffer; mode: number }> {
  const files: Array<{ path: string; data: Buffer; mode: number }> = [];
  for (const f of CONFIG_FILES) {
    const p = path.join(dataDir, f);
    if (fs.existsSync(p)) files.push({ path: f, data: fs.readFileSync(p), mode: fs.statSync(p).mode & 0o777 });
  }
  const keys = loadMasterKeys(dataDir);
  const content = { current: keys.currentId, keys: Object.fromEntries([...keys.keys].map(([id, k]) => [id, k.toString('base64')])) };
  files.push({ path: MASTER_KEY_FILE, data: Buffer.from(JSON.stringify(content, null, 2) + '\n'), mode: 0o600 });
  return files;
}

/** Every file and folder under `root`, depth first, names sorted; links and devices are not followed. */
export async function* walk(root: string, rel = ''): AsyncGenerator<{ rel: string; abs: string; stat: fs.Stats }> {
  const abs = path.join(root, rel);
  const names = (await fs.promises.readdir(abs)).sort();
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const childAbs = path.join(root, childRel);
    const stat = await fs.promises.lstat(childAbs);
    if (stat.isDirectory()) {
      yield { rel: childRel, abs: childAbs, stat };
      yield* walk(root, childRel);
    } else if (stat.isFile()) yield { rel: childRel, abs: childAbs, stat };
  }
}

export async function storeFile(writer: RepositoryWriter, abs: string): Promise<{ chunks: string[]; sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  const chunks = await writer.putStream(fs.createReadStream(abs, { highWaterMark: 1024 * 1024 }), (c) => {
    hash.update(c);
    size += c.length;
  });
  return { chunks, sha256: hash.digest('hex'), size };
}

export async function storeShare(writer: RepositoryWriter, root: string, only?: FileSelection, exclude?: Set<string>): Promise<SharePart> {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`backup: the share folder ${root} does not exist`);
  const entries: FileEntry[] = [];
  let files = 0;
  let bytes = 0;
  for await (const e of walk(root)) {
    if (e.stat.isDirectory()) {
      entries.push({ path: e.rel, type: 'dir', mode: e.stat.mode & 0o7777, mtimeMs: e.stat.mtimeMs, size: 0 });
      continue;
    }
    if (only && !only.paths.has(e.abs)) continue;
    if (exclude?.has(e.abs)) continue;
    let stored;
    try {
      stored = await storeFile(writer, e.abs);
    } catch (err) {
      // A file deleted while the walk went on is simply not in this snapshot.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        only?.changedMeanwhile.push(e.abs);
        continue;
      }
      throw err;
    }
    if (only?.stillGood && !(await only.stillGood(e.abs))) {
      only.changedMeanwhile.push(e.abs);
      continue;
    }
    files++;
    bytes += stored.size;
    entries.push({
      path: e.rel,
      type: 'file',
      mode: e.stat.mode & 0o7777,
      mtimeMs: e.stat.mtimeMs,
      size: stored.size,
      sha256: stored.sha256,
      chunks: stored.chunks,
    });
  }
  // The list of files is itself chunked: names may be patient data, and it deduplicates between snapshots.
  const tree = await writer.putStream([Buffer.from(JSON.stringify(entries))]);
  return only ? { root, tree, files, bytes, partial: true } : { root, tree, files, bytes };
}

export interface BackupResult {
  snapshot: string;
  manifest: Manifest;
  seconds: number;
}

export async function runBackup(writer: RepositoryWriter, input: BackupInput): Promise<BackupResult> {
  const started = performance.now();
  const time = new Date();
  let database: DatabasePart | undefined;
  const config: FileEntry[] = [];
  const wantDb = !input.onlyShares;
  if (wantDb) {
    database = await storeDatabase(writer, input.db);
    for (const f of configFiles(input.dataDir)) {
      const chunks = await writer.putStream([f.data]);
      config.push({
        path: f.path,
        type: 'file',
        mode: f.mode,
        mtimeMs: Date.now(),
        size: f.data.length,
        sha256: crypto.createHash('sha256').update(f.data).digest('hex'),
        chunks,
      });
    }
  }
  const shares: Manifest['shares'] = {};
  for (const [name, dir] of Object.entries(input.shares)) {
    if (input.onlyShares && !input.onlyShares.includes(name)) continue;
    shares[name] = await storeShare(writer, dir, input.onlyFiles, input.exclude);
  }
  const manifest: Manifest = {
    format: FORMAT,
    time: time.toISOString(),
    reason: input.reason,
    host: os.hostname(),
    carewallVersion: VERSION,
    database,
    config,
    shares,
    stats: { ...writer.stats },
  };
  const snapshot = await writer.putSnapshot(manifest, time);
  return { snapshot, manifest, seconds: (performance.now() - started) / 1000 };
}
