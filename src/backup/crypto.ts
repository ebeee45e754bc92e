/**
 * The backup repository's keys and sealed objects (docs/backup.md, "Key hierarchy").
 *
 * The recovery key (shown once, kept offline) is the root of everything that *reads*: an X25519
 * private key is derived from it, and every object is encrypted to its public half through an
 * ephemeral key made for each backup run. The machine that writes backups therefore holds only
 * public keys and keys that *name* or *cut* data (chunk ids, chunk boundaries) and sign manifests:
 * once a run is over it can no longer read what it wrote, let alone what it wrote before.
 */
import crypto from 'node:crypto';

export const OBJECT_MAGIC = Buffer.from('CWO1');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export class WrongRecoveryKeyError extends Error {}
export class TamperedObjectError extends Error {}

export function hkdf(key: Buffer, info: string, length = 32, salt: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', key, salt, info, length));
}

// ---- raw 32-byte keys <-> KeyObjects (node:crypto wants DER for raw X25519/Ed25519 keys) ----
export const x25519Private = (raw: Buffer) => crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
export const ed25519Private = (raw: Buffer) => crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw]), format: 'der', type: 'pkcs8' });
const x25519Public = (raw: Buffer) => crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
export const ed25519Public = (raw: Buffer) => crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
export const rawPublic = (k: crypto.KeyObject): Buffer =>
  ((k.type === 'public' ? k : crypto.createPublicKey(k)).export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);

// ---- the recovery key: 32 random bytes and a 2-byte check, in base32 groups ----
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = B32.indexOf(ch);
    if (v < 0) throw new WrongRecoveryKeyError('the recovery key holds a character that is not in its alphabet (A-Z, 2-7)');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

const check = (secret: Buffer) => crypto.createHash('sha256').update('carewall-recovery-key').update(secret).digest().subarray(0, 2);

export function newRecoverySecret(): Buffer {
  return crypto.randomBytes(32);
}

export function formatRecoveryKey(secret: Buffer): string {
  const body = base32(Buffer.concat([secret, check(secret)]));
  return 'CWRK-' + body.match(/.{1,5}/g)!.join('-');
}

/** Parses a typed or pasted recovery key; a typo is caught by its check bytes, not by a failed decryption later. */
export function parseRecoveryKey(text: string): Buffer {
  const cleaned = text
    .trim()
    .toUpperCase()
    .replace(/^CWRK[\s-]*/, '')
    .replace(/[\s-]/g, '');
  const bytes = unbase32(cleaned);
  if (bytes.length !== 34)
    throw new WrongRecoveryKeyError('that is not a recovery key: it has the wrong length (a recovery key starts with CWRK- and has 55 letters and digits)');
  const secret = bytes.subarray(0, 32);
  if (!check(secret).equals(bytes.subarray(32))) throw new WrongRecoveryKeyError('the recovery key is mistyped: its check letters do not match');
  return Buffer.from(secret);
}

/** What a recovery key opens: the repository's decryption key and the key that signs restore-test evidence. */
export interface RecoveryKeys {
  decrypt: crypto.KeyObject;
  recipient: Buffer;
  evidence: crypto.KeyObject;
  evidencePublic: Buffer;
}

export function recoveryKeys(secret: Buffer): RecoveryKeys {
  const decrypt = x25519Private(hkdf(secret, 'carewall-backup x25519'));
  const evidence = ed25519Private(hkdf(secret, 'carewall-backup evidence ed25519'));
  return { decrypt, recipient: rawPublic(decrypt), evidence, evidencePublic: rawPublic(evidence) };
}

// ---- sealed objects: 'CWO1' | ephemeral public (32) | nonce (12) | tag (16) | AES-256-GCM ciphertext ----

/** The key a writer encrypts one run's objects with; the ephemeral private half is never stored. */
export interface RunKey {
  ephemeral: Buffer;
  key: Buffer;
}

function objectKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return hkdf(shared, 'carewall-backup object key', 32, Buffer.concat([ephemeral, recipient]));
}

export function newRunKey(recipient: Buffer): RunKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const shared = crypto.diffieHellman({ privateKey, publicKey: x25519Public(recipient) });
  const ephemeral = rawPublic(publicKey);
  return { ephemeral, key: objectKey(shared, ephemeral, recipient) };
}

/** The reader's side: the run key of an object, from its ephemeral public key and the recovery key. */
export class ObjectOpener {
  private readonly keys = new Map<string, Buffer>();
  constructor(private readonly recovery: RecoveryKeys) {}

  key(ephemeral: Buffer): Buffer {
    const hex = ephemeral.toString('hex');
    let k = this.keys.get(hex);
    if (!k) {
      const shared = crypto.diffieHellman({ privateKey: this.recovery.decrypt, publicKey: x25519Public(ephemeral) });
      k = objectKey(shared, ephemeral, this.recovery.recipient);
      this.keys.set(hex, k);
    }
    return k;
  }

  open(name: string, sealed: Buffer): Buffer {
    if (sealed.length < 64 || !sealed.subarray(0, 4).equals(OBJECT_MAGIC)) throw new TamperedObjectError(`${name}: not a sealed backup object`);
    const ephemeral = sealed.subarray(4, 36);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key(ephemeral), sealed.subarray(36, 48));
    decipher.setAAD(Buffer.concat([OBJECT_MAGIC, Buffer.from(name)]));
    decipher.setAuthTag(sealed.subarray(48, 64));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(64)), decipher.final()]);
    } catch {
      throw new TamperedObjectError(`${name}: fails authentication (changed, damaged or swapped for another object)`);
    }
  }
}

/** Bound to its name (AAD): an object moved or copied under another name does not open. */
export function sealObject(run: RunKey, name: string, plain: Buffer): Buffer {
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', run.key, nonce);
  cipher.setAAD(Buffer.concat([OBJECT_MAGIC, Buffer.from(name)]));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([OBJECT_MAGIC, run.ephemeral, nonce, cipher.getAuthTag(), body]);
}

/** Seals a small secret to the recipient alone (one ephemeral key for one object). */
export function sealTo(recipient: Buffer, name: string, plain: Buffer): Buffer {
  return sealObject(newRunKey(recipient), name, plain);
}
