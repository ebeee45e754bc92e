/**
 * One audit record and its exact leaf bytes.
 *
 * Leaf bytes (what the Merkle tree hashes, documented in docs/audit.md): the ASCII line
 * `carewall-audit-v1` and a line feed (0x0A), then the record as RFC 8785 canonical JSON in UTF-8
 * (members sorted, no insignificant whitespace), without a trailing newline. The version line lets a
 * later format coexist in the same tree; canonical JSON lets any verifier re-derive the bytes from
 * the decoded record.
 */
import type { Who } from '../shared/index.js';

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

/** The record's `user`: a person acting (their account, name, practitioner and roles). */
export function auditUser(who: Who): NonNullable<AuditRecord['user']> {
  return { account: who.accountId, username: who.username, practitioner: who.practitioner, roles: [...who.roles] };
}

/** RFC 8785 canonical JSON of a value (members sorted, no insignificant whitespace). */
export function canonicalJson(value: unknown): string {
  const json = canonical(value);
  if (json === undefined) throw new Error('value cannot be encoded as JSON');
  return json;
}

/**
 * RFC 8785 (JCS) by hand: every audit record is encoded on the request's path, and the
 * `canonicalize` package (with the copy that dropped undefined members first) took a fifth of the
 * append path's CPU (docs/benchmarks.md). Checked against that package on the RFC's examples and on
 * random values in test/audit-record.test.ts.
 *
 * JCS is JSON.stringify's own output (its string escaping and number form are the ones JCS
 * specifies) with every object's members sorted by UTF-16 code units. So the value is copied with
 * each object's members inserted in sorted order and the copy stringified once, natively. One case
 * defeats that: JavaScript lists integer-like keys ("0", "17") first, in numeric order, whatever
 * order they were inserted in; and a "__proto__" member cannot be inserted as a plain member. A value
 * holding either is written member by member instead.
 */
function canonical(v: unknown): string | undefined {
  const sorted = sortedCopy(v);
  return sorted === UNCOPYABLE ? written(v) : JSON.stringify(sorted);
}

const UNCOPYABLE = Symbol('a key a plain object cannot keep in order');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** The value with every object's members in sorted order, or UNCOPYABLE. toJSON is applied here. */
function sortedCopy(v: unknown): unknown {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${v} is not allowed in canonical JSON`);
    return v;
  }
  if (typeof v === 'bigint') throw new Error('a bigint cannot be encoded as JSON');
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const item = sortedCopy(v[i]);
      if (item === UNCOPYABLE) return UNCOPYABLE;
      out[i] = item;
    }
    return out;
  }
  const o = v as Record<string, unknown> & { toJSON?: () => unknown };
  if (typeof o.toJSON === 'function') return sortedCopy(o.toJSON());
  const out: Record<string, unknown> = {};
  for (const k of sortedKeys(o)) {
    const c = k.charCodeAt(0);
    if ((c >= 48 && c <= 57 && ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1) || k === '__proto__') return UNCOPYABLE;
    const member = sortedCopy(o[k]);
    if (member === UNCOPYABLE) return UNCOPYABLE;
    out[k] = member;
  }
  return out;
}

/**
 * An object's keys in UTF-16 code unit order. `<` on strings compares code units, the order JCS
 * asks for; an insertion sort of the handful of keys a record's objects have is about twice as fast
 * as Array.prototype.sort (measured: 1.5 against 2.5 us a record).
 */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** JCS member by member (the rare value with integer-like or "__proto__" keys). */
function written(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`${v} is not allowed in canonical JSON`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + (written(v[i]) ?? 'null');
        return out + ']';
      }
      const o = v as Record<string, unknown> & { toJSON?: () => unknown };
      if (typeof o.toJSON === 'function') return written(o.toJSON());
      let out = '{';
      for (const k of sortedKeys(o)) {
        const member = written(o[k]);
        if (member === undefined) continue;
        out += (out.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + member;
      }
      return out + '}';
    }
    case 'bigint':
      throw new Error('a bigint cannot be encoded as JSON');
    default:
      return undefined;
  }
}

export function encodeLeaf(record: AuditRecord): Buffer {
  const json = canonical(record);
  if (json === undefined) throw new Error('audit record cannot be encoded');
  return Buffer.from(LEAF_PREFIX + json, 'utf8');
}

export function decodeLeaf(leaf: Buffer): AuditRecord {
  const prefix = Buffer.from(LEAF_PREFIX, 'ascii');
  if (!leaf.subarray(0, prefix.length).equals(prefix)) throw new Error('not a carewall-audit-v1 leaf');
  return JSON.parse(leaf.subarray(prefix.length).toString('utf8')) as AuditRecord;
}
