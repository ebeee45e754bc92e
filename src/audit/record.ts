/**
 * One audit record and its exact leaf bytes.
 *
 * Leaf bytes (what the Merkle tree hashes, documented in docs/audit.md): the ASCII line
 * `carewall-audit-v1` and a line feed (0x0A), then the record as RFC 8785 canonical JSON in UTF-8
 * (members sorted, no insignificant whitespace), without a trailing newline. The version line lets a
 * later format coexist in the same tree; canonical JSON lets any verifier re-derive the bytes from
 * the decoded record.
 */
import canonicalizeModule from 'canonicalize';

// The package is CommonJS whose module.exports is the function; its typings say `export default`,
// which NodeNext resolution reads as a namespace. At run time the default import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

export const LEAF_PREFIX = 'carewall-audit-v1\n';

export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditRecord {
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  /** What happened: read, vread, search, create, update, delete, export, print, break-glass.start, login, ... */
  action: string;
  outcome: AuditOutcome;
  user?: { account?: string; username?: string; practitioner?: string; roles?: string[] };
  client?: { ip?: string; userAgent?: string };
  requestId?: string;
  patient?: string;
  resource?: { type: string; id?: string; version?: string };
  /** The search as asked (parameters only), for searches: only in decoded views, opened from querySealed. */
  query?: string;
  /** The search as asked, sealed with the installation's general data key (base64): what the leaf holds. */
  querySealed?: string;
  purposeOfUse?: string;
  /** Why the access was allowed (its grounds) or the reason it was refused. */
  explanation?: unknown;
}

/** RFC 8785 canonical JSON of a value (members sorted, no insignificant whitespace). */
export function canonicalJson(value: unknown): string {
  const json = canonicalize(stripUndefined(value));
  if (json === undefined) throw new Error('value cannot be encoded as JSON');
  return json;
}

export function encodeLeaf(record: AuditRecord): Buffer {
  const json = canonicalize(stripUndefined(record));
  if (json === undefined) throw new Error('audit record cannot be encoded');
  return Buffer.concat([Buffer.from(LEAF_PREFIX, 'ascii'), Buffer.from(json, 'utf8')]);
}

export function decodeLeaf(leaf: Buffer): AuditRecord {
  const prefix = Buffer.from(LEAF_PREFIX, 'ascii');
  if (!leaf.subarray(0, prefix.length).equals(prefix)) throw new Error('not a carewall-audit-v1 leaf');
  return JSON.parse(leaf.subarray(prefix.length).toString('utf8')) as AuditRecord;
}

/** JSON has no undefined: dropped members, so that encode(decode(leaf)) gives the leaf back. */
function stripUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripUndefined);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, stripUndefined(v)]));
  }
  return value;
}
