/**
 * What a key holder does at their own desk, with no server: read the metadata the server prepared,
 * see what it says, and sign it. The file handed to them is TUF metadata with no signatures; the
 * signature file handed back names what it signs by the SHA-256 of the canonical signed part, so the
 * server can match it to exactly that proposal and nothing else.
 */
import crypto from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind, Root, Targets } from '@tufjs/models';
import { signerFor } from './keys.js';

/** The file `sign` writes and `add-signature` reads. */
export interface SignatureFile {
  /** Which proposal: SHA-256 (hex) of the canonical JSON of its signed part. */
  pending: string;
  role: string;
  version: number;
  keyid: string;
  sig: string;
}

/** The unsigned file names its role outside `signed` (TUF's targets metadata does not name itself). */
export const ROLE_FIELD = 'x-carewall-role';

export type AnyMetadata = Metadata<Root> | Metadata<Targets>;

export function pendingIdOf(signed: Root | Targets): string {
  return crypto.createHash('sha256').update(canonicalize(signed.toJSON())).digest('hex');
}

/** Parses an unsigned (or signed) root or targets metadata file; throws a clear error otherwise. */
export function parseMetadata(text: string, source: string): { role: string; md: AnyMetadata } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${source}: not JSON`);
  }
  const type = (json?.signed as { _type?: unknown } | undefined)?._type;
  try {
    if (type === 'root') return { role: 'root', md: Metadata.fromJSON(MetadataKind.Root, json as never) };
    if (type === 'targets') {
      const role = typeof json[ROLE_FIELD] === 'string' ? (json[ROLE_FIELD] as string) : 'targets';
      return { role, md: Metadata.fromJSON(MetadataKind.Targets, json as never) };
    }
  } catch (err) {
    throw new Error(`${source}: not valid TUF metadata (${(err as Error).message})`);
  }
  throw new Error(`${source}: not root or targets metadata (only those are signed offline)`);
}

/** What the holder is about to sign, in words: read it before signing. */
export function describe(role: string, md: AnyMetadata): string[] {
  const s = md.signed;
  const lines = [`${role} metadata, version ${s.version}, expires ${s.expires}`];
  if (s instanceof Root) {
    lines.push(`consistent snapshots: ${s.consistentSnapshot}`);
    for (const [name, r] of Object.entries(s.roles)) lines.push(`role ${name}: threshold ${r.threshold} of keys ${r.keyIDs.join(', ')}`);
  } else {
    for (const t of Object.values(s.targets)) lines.push(`target ${t.path}: ${t.length} bytes, sha256 ${t.hashes.sha256 ?? '?'}, ${JSON.stringify(t.custom)}`);
    for (const r of Object.values(s.delegations?.roles ?? {}))
      lines.push(`delegates ${r.name} (paths ${(r.paths ?? []).join(' ')}): threshold ${r.threshold} of keys ${r.keyIDs.join(', ')}`);
  }
  return lines;
}

/** `sign`: one holder's signature over the proposal, as a signature file. */
export function signProposal(text: string, source: string, privateDer: Buffer): { summary: string[]; signature: SignatureFile } {
  const { role, md } = parseMetadata(text, source);
  // What is signed is the parsed metadata (the same canonical bytes the summary was made from).
  const sig = signerFor(privateDer)(Buffer.from(canonicalize(md.signed.toJSON())));
  return {
    summary: describe(role, md),
    signature: { pending: pendingIdOf(md.signed), role, version: md.signed.version, keyid: sig.keyID, sig: sig.sig },
  };
}

export function parseSignatureFile(text: string, source: string): SignatureFile {
  let s: Partial<SignatureFile>;
  try {
    s = JSON.parse(text) as Partial<SignatureFile>;
  } catch {
    throw new Error(`${source}: not JSON`);
  }
  const hex = (v: unknown, n?: number) => typeof v === 'string' && /^[0-9a-f]+$/.test(v) && (n === undefined || v.length === n);
  if (!hex(s?.pending, 64) || !hex(s.keyid, 64) || !hex(s.sig, 128) || typeof s.role !== 'string' || !Number.isInteger(s.version))
    throw new Error(`${source}: not a signature file (carewall updates sign writes one)`);
  return s as SignatureFile;
}
