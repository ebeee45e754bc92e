/**
 * C2SP signed-note (https://c2sp.org/signed-note, the format of golang.org/x/mod/sumdb/note) with
 * Ed25519 keys, and C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint).
 *
 * Hand-written: no maintained npm package implements signed notes, and the wire format is a few
 * lines of text; `node:crypto` does the Ed25519.
 */
import crypto from 'node:crypto';

const ED25519 = 0x01;
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const SIG_PREFIX = '\u2014 ';

export class NoteError extends Error {}

/** Key names: non-empty, no '+', no white space or control characters (the spec's rule). */
function checkName(name: string): void {
  if (name === '' || /[+\s\p{Cc}]/u.test(name)) throw new NoteError('malformed key name');
}

function keyId(name: string, publicKey: Buffer): number {
  return crypto
    .createHash('sha256')
    .update(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, ED25519]), publicKey]))
    .digest()
    .readUInt32BE(0);
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

export interface VerifierKey {
  name: string;
  keyId: number;
  publicKey: crypto.KeyObject;
}

export interface SignerKey {
  name: string;
  keyId: number;
  privateKey: crypto.KeyObject;
}

/** A new Ed25519 key pair as signed-note key strings. */
export function generateSignerKey(name: string): { signer: string; verifier: string } {
  checkName(name);
  const seed = crypto.randomBytes(32);
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const pub = crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
  const id = hex8(keyId(name, pub));
  return {
    signer: `PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`,
    verifier: `${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), pub]).toString('base64')}`,
  };
}

function strictBase64(s: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new NoteError('malformed base64');
  return Buffer.from(s, 'base64');
}

/** Splits at the first `count` plus signs: the base64 key at the end may hold plus signs of its own. */
function chop(s: string, count: number): string[] {
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return [];
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...parts, rest];
}

export function parseVerifierKey(vkey: string): VerifierKey {
  const parts = chop(vkey, 2);
  if (parts.length !== 3) throw new NoteError('malformed verifier key');
  const [name, idHex, b64] = parts;
  checkName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('malformed verifier key id');
  const raw = strictBase64(b64);
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteError('verifier key is not an Ed25519 key');
  const pub = raw.subarray(1);
  if (keyId(name, pub) !== parseInt(idHex, 16)) throw new NoteError('verifier key id does not match the key');
  return { name, keyId: parseInt(idHex, 16), publicKey: crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' }) };
}

export function parseSignerKey(skey: string): SignerKey {
  const parts = chop(skey, 4);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new NoteError('malformed signer key');
  const [, , name, idHex, b64] = parts;
  checkName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError('malformed signer key id');
  const raw = strictBase64(b64);
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteError('signer key is not an Ed25519 key');
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw.subarray(1)]), format: 'der', type: 'pkcs8' });
  const pub = crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
  if (keyId(name, pub) !== parseInt(idHex, 16)) throw new NoteError('signer key id does not match the key');
  return { name, keyId: parseInt(idHex, 16), privateKey };
}

/** The note text must be UTF-8 lines each ending in a newline, none of them empty. */
function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  if (text.includes('\n\n') || text.startsWith('\n')) throw new NoteError('note text must not contain blank lines');
  if (/[\p{Cc}]/u.test(text.replaceAll('\n', ''))) throw new NoteError('note text must not contain control characters');
}

/** Signs `text` (which ends with a newline): the text, a blank line, and the signature line. */
export function signNote(text: string, signerKey: string): string {
  checkText(text);
  const k = parseSignerKey(signerKey);
  const sig = crypto.sign(null, Buffer.from(text, 'utf8'), k.privateKey);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(k.keyId);
  return `${text}\n${SIG_PREFIX}${k.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
}

export interface OpenedNote {
  text: string;
  signatures: Array<{ name: string; keyId: number; verified: boolean }>;
}

/**
 * Opens a signed note: its text, once at least one signature by one of `verifierKeys` verifies.
 * Signatures by unknown keys are tolerated (the spec: a note may carry cosignatures); a signature
 * that names a known key but does not verify rejects the note.
 */
export function openNote(input: string | Buffer, verifierKeys: string[]): OpenedNote {
  const keys = verifierKeys.map(parseVerifierKey);
  let note: string;
  try {
    note = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new NoteError('malformed note: not UTF-8');
  }
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed note: no signature block');
  const text = note.slice(0, split + 1);
  checkText(text);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw new NoteError('malformed note: signature block');
  const signatures: OpenedNote['signatures'] = [];
  const seen = new Set<string>();
  const lines = block.slice(0, -1).split('\n');
  // The spec lets a verifier bound the work an attacker can cause; Go's implementation uses 100.
  if (lines.length > 100) throw new NoteError('malformed note: too many signatures');
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw new NoteError('malformed note: signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    if (space <= 0) throw new NoteError('malformed note: signature line');
    const name = rest.slice(0, space);
    checkName(name);
    const raw = strictBase64(rest.slice(space + 1));
    if (raw.length < 5) throw new NoteError('malformed note: signature');
    const id = raw.readUInt32BE(0);
    // A signature line repeated verbatim (a note merged from several copies) counts once.
    if (seen.has(line)) continue;
    seen.add(line);
    const key = keys.find((k) => k.name === name && k.keyId === id);
    if (!key) {
      signatures.push({ name, keyId: id, verified: false });
      continue;
    }
    if (raw.length !== 68 || !crypto.verify(null, Buffer.from(text, 'utf8'), key.publicKey, raw.subarray(4))) {
      throw new NoteError(`invalid signature by ${name}`);
    }
    signatures.push({ name, keyId: id, verified: true });
  }
  if (!signatures.some((s) => s.verified)) throw new NoteError('no signature by a known key');
  return { text, signatures };
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  extensions?: string[];
}

/** A tlog-checkpoint body: origin, tree size, base64 root hash, optional extension lines. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === '' || c.origin.includes('\n')) throw new NoteError('checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new NoteError('checkpoint size must be a whole number');
  if (c.root.length !== 32) throw new NoteError('checkpoint root must be 32 bytes');
  const ext = (c.extensions ?? []).map((e) => `${e}\n`).join('');
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n${ext}`;
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new NoteError('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('checkpoint needs origin, size and root');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin === '') throw new NoteError('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new NoteError('checkpoint size is not a decimal number');
  const root = strictBase64(rootText);
  if (root.length !== 32) throw new NoteError('checkpoint root is not 32 bytes');
  if (extensions.some((e) => e === '')) throw new NoteError('checkpoint has an empty line');
  return { origin, size: Number(sizeText), root, ...(extensions.length > 0 ? { extensions } : {}) };
}
