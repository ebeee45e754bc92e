/** Validation of account fields. Messages name the field and the rule, never the value given. */
import { isRole, ROLES, type Role } from '../shared/index.js';
import { InvalidInputError } from './errors.js';

const USERNAME = /^[a-zA-Z0-9._@-]{1,64}$/;
// FHIR ids: 1-64 of [A-Za-z0-9-.].
const PRACTITIONER = /^Practitioner\/[A-Za-z0-9.-]{1,64}$/;

export function isWellFormedUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME.test(value);
}

/** The stored (lower-case) form; 'Alice' and 'alice' are one account. */
export function normaliseUsername(value: unknown): string {
  if (!isWellFormedUsername(value)) {
    throw new InvalidInputError('username must be 1 to 64 characters of letters, digits, ".", "_", "@" or "-"');
  }
  return value.toLowerCase();
}

export function checkRoles(value: unknown): Role[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidInputError('roles must be a non-empty list');
  value.forEach((r, i) => {
    // Which one, by position, and what would do: never the value itself (rule 3: no echo of input).
    if (!isRole(r)) throw new InvalidInputError(`roles: the ${ordinal(i + 1)} is not a known role; the roles are ${ROLES.join(', ')}`);
  });
  return [...new Set(value as Role[])];
}

export function checkPractitioner(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !PRACTITIONER.test(value)) {
    throw new InvalidInputError('practitioner must be a reference of the form Practitioner/<id>');
  }
  return value;
}

export function checkValidUntil(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  // Date.parse accepts many shapes; an explicit date prefix keeps '5' or 'tomorrow' from being guessed at.
  const shaped = value instanceof Date || (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value));
  if (!date || !shaped || Number.isNaN(date.getTime())) {
    throw new InvalidInputError('validUntil must be an ISO 8601 date-time');
  }
  return date;
}

/** 1st, 2nd, 3rd, 4th... */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}
