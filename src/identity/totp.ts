/**
 * Second factor: RFC 6238 time-based codes (SHA-1, 6 digits, 30 s), the parameters every
 * authenticator app supports. The shared secret is sealed with the general data key and bound to its
 * account, so a database dump alone yields no usable secret and a sealed secret copied onto another
 * account does not open.
 */
import crypto from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Role } from '../shared/index.js';
import type { Keyring } from '../keys/index.js';

export const TOTP_ISSUER = 'Carewall';
const PERIOD = 30;
const DIGITS = 6;
/** One step either side tolerates a phone clock off by up to ~30 s and a code typed as it rolls over. */
const WINDOW = 1;
/** 160 bits, the HMAC-SHA1 block-friendly size RFC 4226 recommends. */
const SECRET_BYTES = 20;

/** Roles whose holders can change who may see what: a stolen password alone must not be enough. */
export const ROLES_REQUIRING_TOTP: readonly Role[] = ['privacy-officer', 'security-admin', 'awareness-officer', 'admin'];

export function rolesRequireTotp(roles: readonly string[]): boolean {
  return roles.some((r) => (ROLES_REQUIRING_TOTP as readonly string[]).includes(r));
}

export function newTotpSecret(): Buffer {
  return crypto.randomBytes(SECRET_BYTES);
}

function totpFor(secret: Buffer, username = ''): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label: username,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD,
    secret: new Secret({ buffer: new Uint8Array(secret).buffer }),
  });
}

/** The otpauth:// URI an authenticator app scans; it contains the secret, so it is shown once. */
export function totpUri(secret: Buffer, username: string): string {
  return totpFor(secret, username).toString();
}

const context = (accountId: string) => `totp:${accountId}`;

export function sealTotpSecret(keys: Pick<Keyring, 'sealGeneral'>, secret: Buffer, accountId: string): Buffer {
  return keys.sealGeneral(secret, context(accountId));
}

export function openTotpSecret(keys: Pick<Keyring, 'openGeneral'>, sealed: Buffer, accountId: string): Buffer {
  return keys.openGeneral(sealed, context(accountId));
}

/**
 * The time step the code belongs to, or null when it matches none in the window. The caller stores the
 * step and refuses any step not greater than the last one used, so an observed code cannot be replayed.
 */
export function matchTotp(secret: Buffer, code: string, now = Date.now()): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor(secret).validate({ token, timestamp: now, window: WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}
