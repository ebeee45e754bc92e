/**
 * The vault's credentials (DIR/vault.json, 0600): bearer tokens kept as SHA-256 only, each with a
 * role. A writer stores new objects and reads; an administrator reads and asks for or approves a
 * prune. Nobody's token deletes on its own: a prune needs a second administrator's approval.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type VaultRole = 'writer' | 'admin';
export interface VaultCredential {
  name: string;
  role: VaultRole;
  sha256: string;
  createdAt: string;
}

export const CREDENTIALS_FILE = 'vault.json';
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export function loadCredentials(dir: string): VaultCredential[] {
  const file = path.join(dir, CREDENTIALS_FILE);
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { credentials: VaultCredential[] }).credentials;
}

/** Adds a credential and returns its token, which is shown once and kept nowhere. */
export function addCredential(dir: string, role: VaultRole, name: string): string {
  if (role !== 'writer' && role !== 'admin') throw new Error('role must be writer or admin');
  if (!NAME.test(name)) throw new Error('a credential name is lower-case letters, digits, _ . - (up to 64)');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const creds = loadCredentials(dir);
  if (creds.some((c) => c.name === name)) throw new Error(`a credential named ${name} exists already`);
  const token = `cwv_${crypto.randomBytes(32).toString('base64url')}`;
  creds.push({ name, role, sha256: hash(token), createdAt: new Date().toISOString() });
  const file = path.join(dir, CREDENTIALS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ credentials: creds }, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return token;
}

export function findCredential(creds: VaultCredential[], token: string | undefined): VaultCredential | undefined {
  if (!token) return undefined;
  const h = Buffer.from(hash(token), 'hex');
  return creds.find((c) => crypto.timingSafeEqual(Buffer.from(c.sha256, 'hex'), h));
}
