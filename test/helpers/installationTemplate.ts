/**
 * A migrated installation that test servers copy instead of building their own. Creating an
 * embedded database and migrating it costs several seconds, copying its folder a few hundred
 * milliseconds (measured: 9.3 s against 0.3 s + 1.4 s to open the copy, on a busy 2-core machine);
 * on PostgreSQL, CREATE DATABASE ... TEMPLATE copies a migrated database in one statement.
 *
 * The template is the folder (key file, audit verifier key, database) an installation has after its
 * first opening, made once per machine for this exact source tree: its name carries a hash of every
 * file under src/ and of the lock file, so a change to the code makes a new one rather than testing
 * against a stale one. Test processes that race to make it each build one and keep the first.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadSettings, writeSettings } from '../../src/config.js';
import { createKeyFile } from '../../src/keys/masterKeys.js';
import { createLogger } from '../../src/log.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEMPLATES = path.join(os.tmpdir(), 'carewall-test-templates');
/** Names the PostgreSQL template database a template folder belongs with. */
const DATABASE_FILE = 'template-database';
/** Templates of other source trees are removed once this old (another run may still be copying a newer one). */
const STALE_MS = 6 * 3600_000;

export interface Template {
  /** A folder to copy: master.key, audit.vkey and, for the embedded database, pgdata. */
  dir: string;
  /** On PostgreSQL: the migrated database to create test databases from. */
  database?: string;
}

let made: Promise<Template> | undefined;

/** The template for this source tree and this database (DATABASE_URL or the embedded one). */
export function installationTemplate(): Promise<Template> {
  made ??= findOrMake(process.env.DATABASE_URL);
  return made;
}

/** Copies the template into a new data folder; on PostgreSQL also the database, named `database`. */
export async function copyTemplate(dataDir: string, database?: { name: string; adminUrl: string }): Promise<void> {
  const template = await installationTemplate();
  fs.cpSync(template.dir, dataDir, { recursive: true, filter: (src) => path.basename(src) !== DATABASE_FILE });
  if (!database) return;
  if (!template.database) throw new Error('the template has no database');
  await withAdmin(database.adminUrl, async (admin) => {
    // Two test processes copying the same template at once may meet; PostgreSQL then says so.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${database.name} template ${template.database}`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
}

function sourceHash(): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(path.relative(ROOT, full)).update('\0').update(fs.readFileSync(full)).update('\0');
    }
  };
  walk(path.join(ROOT, 'src'));
  // How the template is made is part of it, too.
  hash.update(fs.readFileSync(fileURLToPath(import.meta.url)));
  const lock = path.join(ROOT, 'package-lock.json');
  if (fs.existsSync(lock)) hash.update(fs.readFileSync(lock));
  return hash.digest('hex').slice(0, 16);
}

async function findOrMake(databaseUrl: string | undefined): Promise<Template> {
  const server = databaseUrl ? crypto.createHash('sha256').update(databaseUrl).digest('hex').slice(0, 8) : 'embedded';
  const name = `${sourceHash()}-${server}`;
  const dir = path.join(TEMPLATES, name);
  const found = readTemplate(dir);
  if (found && (await databaseExists(databaseUrl, found.database))) return found;
  // A folder whose database is gone (dropped by hand, a server rebuilt) is no template: set it aside
  // and build anew. Of processes that notice at once, one rename wins; the others find nothing to move.
  if (found) discard(dir);

  fs.mkdirSync(TEMPLATES, { recursive: true });
  removeStale(name);
  const building = fs.mkdtempSync(path.join(TEMPLATES, `building-${name}-`));
  const database = databaseUrl ? `carewall_tpl_${name.slice(0, 16)}_${Math.floor(Date.now() / 1000)}_${process.pid}` : undefined;
  createKeyFile(building);
  writeSettings(building, {});
  let settings = loadSettings(building, {});
  if (databaseUrl && database) {
    await withAdmin(databaseUrl, (admin) => admin.query(`create database ${database}`));
    const url = new URL(databaseUrl);
    url.pathname = `/${database}`;
    settings = loadSettings(building, { DATABASE_URL: url.toString() });
    fs.writeFileSync(path.join(building, DATABASE_FILE), database);
  }
  // Loaded only here: a test that copies a template it finds need not load all of Carewall.
  const { openCarewall } = await import('../../src/runtime.js');
  const cw = await openCarewall(settings, createLogger('silent'));
  await cw.close();
  if (!databaseUrl) smallSharedBuffers(path.join(building, 'pgdata'));
  fs.rmSync(path.join(building, 'carewall.json'));
  try {
    fs.renameSync(building, dir);
  } catch {
    // Another process finished first: use its template, drop ours.
    fs.rmSync(building, { recursive: true, force: true });
    if (databaseUrl && database) await withAdmin(databaseUrl, (admin) => admin.query(`drop database if exists ${database}`));
  }
  const result = readTemplate(dir);
  if (!result) throw new Error(`no installation template in ${dir}`);
  return result;
}

/**
 * A test's embedded database holds a few megabytes, yet PostgreSQL's default shared_buffers (128MB,
 * what initdb writes and what an installation keeps) is memory the embedded engine zeroes at every
 * opening: measured, 0.6 s of CPU of an opening's 0.85 s, in a suite that opens a database several
 * hundred times. 16MB holds every page a test database has, so queries do not change; only the
 * opening gets cheaper. PostgreSQL reads the data folder's postgresql.conf at start, the last
 * setting of a name winning; PGlite's own start parameters do not set this one.
 */
function smallSharedBuffers(pgdata: string): void {
  const conf = path.join(pgdata, 'postgresql.conf');
  if (!fs.existsSync(conf)) throw new Error(`no postgresql.conf in the template's database folder ${pgdata}`);
  fs.appendFileSync(conf, '\n# Carewall tests: a test database is small (test/helpers/installationTemplate.ts)\nshared_buffers = 16MB\n');
}

/** Whether the template's database is still on the server (the embedded template has none to lose). */
async function databaseExists(databaseUrl: string | undefined, database: string | undefined): Promise<boolean> {
  if (!databaseUrl || !database) return !databaseUrl;
  const { rowCount } = await withAdmin(databaseUrl, (admin) => admin.query('select 1 from pg_database where datname = $1', [database]));
  return rowCount === 1;
}

function discard(dir: string): void {
  const aside = `${dir}.gone-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(dir, aside);
  } catch {
    return;
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

function readTemplate(dir: string): Template | undefined {
  if (!fs.existsSync(path.join(dir, 'master.key'))) return undefined;
  const marker = path.join(dir, DATABASE_FILE);
  return { dir, database: fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : undefined };
}

/** Templates of earlier source trees, and half-built ones of processes long gone. */
function removeStale(current: string): void {
  const now = Date.now();
  for (const entry of fs.readdirSync(TEMPLATES)) {
    if (entry === current) continue;
    const full = path.join(TEMPLATES, entry);
    if (now - fs.statSync(full).mtimeMs < STALE_MS) continue;
    const database = readTemplate(full)?.database;
    fs.rmSync(full, { recursive: true, force: true });
    if (database && process.env.DATABASE_URL)
      void withAdmin(process.env.DATABASE_URL, (admin) => admin.query(`drop database if exists ${database}`)).catch(() => undefined);
  }
}

async function withAdmin<T>(url: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
