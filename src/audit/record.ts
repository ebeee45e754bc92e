/**
 * One audit record and its exact leaf bytes.
 *
 * Leaf bytes (what the Merkle tree hashes, documented in docs/audit.md): the ASCII line
 * `carewall-audit-v1` and a line feed (0x0A), then the record as RFC 8785 canonical JSON in UTF-8
 * (members sorted, no insignificant whitespace), without a trailing newline. The version line lets a
 * later format coexist in the same tree; canonical JSON lets any verifier re-derive the bytes from
 * the decoded record.
 */
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
  const json = canonical(value);
  if (json === undefined) throw new Error('value cannot be encoded as JSON');
  return json;
}

/**
 * RFC 8785 (JCS) by hand: every audit record is encoded on the request's path, and the
 * \`canonicalize\` package (with the copy that dropped undefined members first) took a fifth of the
 * append path's CPU (docs/benchmarks.md); this is the same algorithm in one pass, checked against
 * that package on random values in test/audit-record.test.ts. Strings and numbers are written by
 * JSON.stringify, whose escaping and number form are the ones JCS specifies; members are sorted by
 * UTF-16 code units (the default sort); undefined, functions and symbols are left out of objects
 * and become null in arrays, as in JSON.stringify.
 */
function canonical(v: unknown): string | undefined {
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
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + (canonical(v[i]) ?? 'null');
        return out + ']';
      }
      const o = v as Record<string, unknown> & { toJSON?: () => unknown };
      if (typeof o.toJSON === 'function') return canonical(o.toJSON());
      let out = '{';
      for (const k of Object.keys(o).sort()) {
        const member = canonical(o[k]);
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

