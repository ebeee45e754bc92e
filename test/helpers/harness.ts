/**
 * Test harness: a real Carewall on a real database. Without DATABASE_URL each server gets its own
 * embedded PGlite folder; with it, each server gets a fresh database created on that PostgreSQL
 * server (and dropped afterwards), so test files never see each other's data.
 */
import type { FastifyInstance } from 'fastify';
import fs from 'node:fs';
import pg from 'pg';
import { Secret, TOTP } from 'otpauth';
import { loadSettings, writeSettings, type StoredSettings } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openCarewall, type Carewall } from '../../src/runtime.js';
import { buildServer } from '../../src/http/server.js';
import { SYSTEM, type Role } from '../../src/shared/index.js';
import { copyTemplate } from './installationTemplate.js';
import { tempDir } from './tempDir.js';
import { createKeyFile } from '../../src/keys/masterKeys.js';
import { openDatabase, type Database } from '../../src/db/database.js';

export const PASSWORD = 'correct horse battery staple';

export interface TestServer {
  url: string;
  cw: Carewall;
  app: FastifyInstance;
  dataDir: string;
  databaseUrl?: string;
  /**
   * Creates an account with these roles, linked to a new Practitioner (so that care relationships
   * can name it), and returns a bearer token for it.
   */
  login(roles: Role[], username?: string): Promise<string>;
  /** 'Practitioner/<id>' of the account a token from `login` belongs to. */
  practitionerOf(token: string): string;
  close(): Promise<void>;
}

export { tempDir };

/** A fresh, empty database on the server named by DATABASE_URL, or undefined for PGlite. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const base = process.env.DATABASE_URL;
  if (!base) return undefined;
  const name = `carewall_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await createDatabase(base, name);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropDatabase(base, name),
  };
}

export interface InstallationOptions {
  /** Only what a first start does is left to do: a key file and an empty database, as before `init`. */
  neverStarted?: boolean;
  /** A PostgreSQL server (a connection string to create databases with) to use instead of DATABASE_URL's or the embedded database. */
  postgres?: string;
}

/**
 * An initialised data folder (key file and settings) and, on PostgreSQL, a fresh database: both
 * copies of an installation already migrated (installationTemplate.ts), as a first start leaves it.
 */
export async function prepareInstallation(overrides: StoredSettings = {}, options: InstallationOptions = {}) {
  const dataDir = tempDir();
  const base = options.postgres ?? process.env.DATABASE_URL;
  const name = base ? `carewall_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}` : undefined;
  // The template belongs with DATABASE_URL's server; on another, the first opening migrates instead.
  if (options.neverStarted || base !== process.env.DATABASE_URL) {
    // For what only a first start does: a key file and an empty database, as before `init`.
    createKeyFile(dataDir);
    if (base && name) await createDatabase(base, name);
  } else await copyTemplate(dataDir, base && name ? { name, adminUrl: base } : undefined);
  writeSettings(dataDir, overrides);
  let databaseUrl: string | undefined;
  if (base && name) {
    const url = new URL(base);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  const settings = loadSettings(dataDir, { DATABASE_URL: databaseUrl });
  return {
    dataDir,
    settings,
    databaseUrl,
    async cleanup() {
      if (base && name) await dropDatabase(base, name);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The database of a copy of the migrated installation, opened on its own (no Carewall around it):
 * on DATABASE_URL's server or embedded. `close` closes it and removes the copy.
 */
export async function openTestDatabase(): Promise<{ db: Database; close: () => Promise<void> }> {
  const inst = await prepareInstallation();
  const db = await openDatabase({ databaseUrl: inst.databaseUrl, dataDir: inst.dataDir });
  return {
    db,
    async close() {
      await db.close();
      await inst.cleanup();
    },
  };
}

async function createDatabase(base: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
}

async function dropDatabase(base: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.end();
}

export async function startTestServer(
  overrides: StoredSettings = {},
  configure?: (cw: Carewall) => void,
  options: Pick<InstallationOptions, 'postgres'> = {},
): Promise<TestServer> {
  const inst = await prepareInstallation(overrides, options);
  const cw = await openCarewall(inst.settings, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  configure?.(cw);
  const app = await buildServer(cw);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // As a demo does: the server's public address is the one it listens on, unless a test sets one.
  cw.settings.publicUrl ??= `http://127.0.0.1:${port}`;
  let n = 0;
  const practitioners = new Map<string, string>();
  return {
    url: `http://127.0.0.1:${port}`,
    cw,
    app,
    dataDir: inst.dataDir,
    databaseUrl: inst.databaseUrl,
    async login(roles, username = `${roles.join('-')}-${++n}`) {
      const practitioner = await cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: username }] });
      const practitionerRef = `Practitioner/${practitioner.id}`;
      const created = await cw.identity.createAccount({ username, password: PASSWORD, roles, practitioner: practitionerRef });
      const otp = created.totpUri ? currentOtp(created.totpUri) : undefined;
      const res = await fetch(`http://127.0.0.1:${port}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD, otp }),
      });
      if (res.status !== 201) throw new Error(`login failed: ${res.status} ${await res.text()}`);
      const token = ((await res.json()) as { token: string }).token;
      practitioners.set(token, practitionerRef);
      return token;
    },
    practitionerOf(token) {
      const ref = practitioners.get(token);
      if (!ref) throw new Error('not a token from login()');
      return ref;
    },
    async close() {
      await app.close();
      await cw.close();
      await inst.cleanup();
    },
  };
}

export function currentOtp(totpUri: string, timestamp = Date.now()): string {
  const secret = new URL(totpUri).searchParams.get('secret')!;
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp });
}

/** fetch with JSON in and out. */
export async function call(
  base: string,
  method: string,
  pathname: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/fhir+json';
  const res = await fetch(base + pathname, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
