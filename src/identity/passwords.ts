/**
 * Password policy and hashing. Argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane):
 * memory-hard so that a stolen table is slow to crack on GPUs, cheap enough for a login per request burst.
 */
import crypto from 'node:crypto';
import { hash, parseOptions, verify, type Algorithm } from '@node-rs/argon2';
import { PASSWORD_MAX, PASSWORD_MIN } from '../shared/index.js';
import { InvalidInputError } from './errors.js';

export { PASSWORD_MAX, PASSWORD_MIN };

// The package's `Algorithm` is a const enum that does not exist at run time under tsx/esbuild.
const ARGON2ID = 2 as Algorithm;
const POLICY = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * NFKC so that the same passphrase typed on two keyboards (composed vs decomposed accents, full-width
 * digits) is the same password, as NIST SP 800-63B recommends.
 */
function normalise(password: string): string {
  return password.normalize('NFKC');
}

/** Throws InvalidInputError naming the rule broken, never the password. */
export function checkPasswordPolicy(password: unknown): string {
  if (typeof password !== 'string') throw new InvalidInputError('password must be a string');
  const length = [...normalise(password)].length;
  if (length < PASSWORD_MIN) throw new InvalidInputError(`password must be at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) throw new InvalidInputError(`password must be at most ${PASSWORD_MAX} characters`);
  return password;
}

export function hashPassword(password: string): Promise<string> {
  return hash(normalise(password), POLICY);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, normalise(password));
  } catch {
    // A malformed stored hash must fail closed, not become a 500 that reveals the account exists.
    return false;
  }
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification so that a login for a username that does not exist
 * takes as long as one for a username that does.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hash(crypto.randomBytes(32).toString('base64url'), POLICY);
  await verifyPassword(await dummy, password.slice(0, PASSWORD_MAX));
  return false;
}

/** True when the stored hash was made with weaker (older) parameters than today's policy. */
export function needsRehash(stored: string): boolean {
  try {
    const o = parseOptions(stored);
    return o.algorithm !== POLICY.algorithm || o.memoryCost < POLICY.memoryCost || o.timeCost < POLICY.timeCost || o.parallelism !== POLICY.parallelism;
  } catch {
    return false;
  }
}
