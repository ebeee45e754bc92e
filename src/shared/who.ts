/**
 * Who is asking: the caller every capability acts for, and the roles an account can hold. Shared by
 * every capability (records, access, identity, audit...), so it belongs to none of them.
 */

export const ROLES = [
  'physician',
  'nurse',
  'receptionist',
  'billing',
  'lab',
  'biomedical-engineer',
  'privacy-officer',
  'security-admin',
  'awareness-officer',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The authenticated caller. */
export interface Who {
  accountId: string;
  username: string;
  roles: Role[];
  /** 'Practitioner/<id>' when the account is linked to one. */
  practitioner?: string;
  /** The system itself (seeding, migrations run by the CLI); never given to an HTTP caller. */
  system?: boolean;
  /**
   * A registered system client (SMART Backend Services) and the scopes its token carries: it has
   * no roles, and may do exactly what the scopes say (systemScopes.ts).
   */
  client?: { id: string; scopes: string[] };
  /**
   * Reads on this caller's behalf that no one watches at the screen (a bulk export): they follow
   * care relationships only, never a break-the-glass grant or an investigation.
   */
  withoutGrants?: boolean;
  /**
   * The primary's WAL position after this caller's last write (their session knows it): a search
   * may run on a streaming replica only once it has replayed this far (read-your-writes; db/replica.ts).
   * Unset: not known, so the primary.
   */
  readsAfter?: string;
  /**
   * The HTTP request this caller acts through, for the audit log (address, user agent, request id,
   * the search asked). The HTTP shell sets it on the caller it authenticated; the CLI and the system
   * act through none.
   */
  request?: RequestDetails;
}

/**
 * What the audit log keeps of the request an action came through. Passed explicitly, on the caller
 * (`Who.request`) or on an event whose actor is nobody yet (a sign-in, a device's report), so that
 * a record's origin is visible in the code that makes it.
 */
export interface RequestDetails {
  requestId?: string;
  ip?: string;
  userAgent?: string;
  /** The query string of a search, as asked. */
  query?: string;
}

/** The system itself: the CLI acting for whoever holds the data folder, seeding, migrations. */
export const SYSTEM: Who = { accountId: 'system', username: 'system', roles: ['admin'], system: true };
