/**
 * Master keys wrap the data keys; they never touch the database. They live in a key file made by
 * `init` (mode 0600, several keys so that a rotation can run while other processes still hold the
 * previous one), or in the CAREWALL_MASTER_KEY environment variable (base64, 32 bytes; a
 * comma-separated list puts the current key first).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MASTER_KEY_FILE = 'master.key';
export const MASTER_KEY_ENV = 'CAREWALL_MASTER_KEY';

export interface MasterKeySet {
  currentId: string;
  keys: Map<string, Buffer>;
  /** Where the keys came from: a file can be rotated in place, the environment cannot. */
  source: { kind: 'file'; path: string } | { kind: 'env' };
}

interface KeyFileContent {
  current: string;
  keys: Record<string, string>;
}

/** A key's id is a digest of it: it identifies the key without revealing it. */
export function masterKeyId(key: Buffer): string {
  return crypto.createHash('sha256').update('carewall-master-key-id').update(key).digest('hex').slice(0, 16);
}

export function newMasterKey(): Buffer {
  return crypto.randomBytes(32);
}

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, MASTER_KEY_FILE);
}

export function createKeyFile(dataDir: string): MasterKeySet {
  const file = keyFilePath(dataDir);
  const key = newMasterKey();
  const id = masterKeyId(key);
  const content: KeyFileContent = { current: id, keys: { [id]: key.toString('base64') } };
  // 'wx': never overwrite an existing key file, that would make every record unreadable.
  fs.writeFileSync(file, JSON.stringify(content, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return { currentId: id, keys: new Map([[id, key]]), source: { kind: 'file', path: file } };
}

export function loadMasterKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): MasterKeySet {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv) {
    const keys = fromEnv.split(',').map((k) => decodeKey(k.trim(), MASTER_KEY_ENV));
    return { currentId: masterKeyId(keys[0]), keys: new Map(keys.map((k) => [masterKeyId(k), k])), source: { kind: 'env' } };
  }
  const file = keyFilePath(dataDir);
  if (!fs.existsSync(file)) {
    throw new Error(`no master key: ${file} does not exist and ${MASTER_KEY_ENV} is not set (run 'carewall init' first)`);
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
  const content = JSON.parse(fs.readFileSync(file, 'utf8')) as KeyFileContent;
  const keys = new Map(Object.entries(content.keys).map(([id, k]) => [id, decodeKey(k, file)] as const));
  if (!keys.has(content.current)) throw new Error(`${file} names a current key it does not hold`);
  for (const [id, k] of keys) if (masterKeyId(k) !== id) throw new Error(`${file}: key ${id} does not match its id`);
  return { currentId: content.current, keys, source: { kind: 'file', path: file } };
}

/** Adds a fresh key as current, keeping the older ones until the rotation has re-wrapped everything. */
export function addKeyToFile(set: MasterKeySet): MasterKeySet {
  if (set.source.kind !== 'file') {
    throw new Error(`master keys come from ${MASTER_KEY_ENV}: put the new key first in that variable yourself, then rotate`);
  }
  const key = newMasterKey();
  const id = masterKeyId(key);
  const keys = new Map(set.keys);
  keys.set(id, key);
  writeKeyFile(set.source.path, id, keys);
  return { currentId: id, keys, source: set.source };
}

/** Drops keys that no data key is wrapped with any more. */
export function retireKeysInFile(set: MasterKeySet, keep: Set<string>): MasterKeySet {
  if (set.source.kind !== 'file') return set;
  const keys = new Map([...set.keys].filter(([id]) => id === set.currentId || keep.has(id)));
  writeKeyFile(set.source.path, set.currentId, keys);
  return { ...set, keys };
}

function writeKeyFile(file: string, current: string, keys: Map<string, Buffer>): void {
  const content: KeyFileContent = { current, keys: Object.fromEntries([...keys].map(([id, k]) => [id, k.toString('base64')])) };
  // Write-then-rename so that a crash never leaves a half-written key file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${where}: a master key must be 32 bytes, base64-encoded`);
  return key;
}
