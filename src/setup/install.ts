/** Making a new installation: data folder, master key file, settings, database schema, first admin. */
import fs from 'node:fs';
import { checkPublicUrl, isInitialised, loadSettings, writeSettings, type Settings, type StoredSettings } from '../config.js';
import { checkPasswordPolicy, normaliseUsername } from '../identity/index.js';
import { createKeyFile, keyFilePath } from '../keys/index.js';
import type { Logger } from '../log.js';
import { openCarewall, type Carewall } from '../runtime.js';

export interface InstallOptions {
  dataDir: string;
  adminUser: string;
  adminPassword: string;
  demo?: boolean;
  /** The server's public address (carewall.json publicUrl): the audience system clients' assertions name. */
  publicUrl?: string;
  /** Sections of carewall.json that their capabilities read as they are (the demo's file share). */
  sections?: { backup?: unknown; guard?: unknown };
  log: Logger;
  /** The environment to read DATABASE_URL from (the command's, which may not be this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface InstallResult {
  cw: Carewall;
  username: string;
  totpUri?: string;
}

export class AlreadyInitialisedError extends Error {}

/** Creates the installation and returns it open, so a caller (demo) can keep using it. */
export async function install(options: InstallOptions): Promise<InstallResult> {
  const { dataDir } = options;
  if (isInitialised(dataDir)) throw new AlreadyInitialisedError(`${dataDir} already holds a Carewall installation`);
  const publicUrl = options.publicUrl === undefined ? undefined : checkPublicUrl(options.publicUrl);
  // Refused before anything is made: a weak password leaves no folder, key or database behind.
  normaliseUsername(options.adminUser);
  checkPasswordPolicy(options.adminPassword);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // A key file left by an init that failed half-way is reused: nothing was encrypted for anyone else.
  if (!process.env.CAREWALL_MASTER_KEY && !fs.existsSync(keyFilePath(dataDir))) createKeyFile(dataDir);
  const settings = loadSettings(dataDir, options.env);
  const cw = await openCarewall({ ...settings, ...options.sections, demo: Boolean(options.demo) } as Settings, options.log);
  try {
    const admin = await cw.identity.createAccount({ username: options.adminUser, password: options.adminPassword, roles: ['admin'] });
    // Written last: a folder without settings is not an installation, so a failed init can be re-run.
    writeSettings(dataDir, { ...options.sections, demo: Boolean(options.demo), ...(publicUrl ? { publicUrl } : {}) } as StoredSettings);
    return { cw, username: options.adminUser, totpUri: admin.totpUri };
  } catch (err) {
    await cw.close();
    throw err;
  }
}
