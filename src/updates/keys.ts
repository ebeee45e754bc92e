/**
 * Ed25519 keys in TUF's shape. The offline keys (root, top-level targets, each engineer's) are files
 * their holders keep: the private half never reaches the server, which is given only the public
 * half (`<file>.pub`, TUF's key object). A key id is what TUF and tuf-js call it: the SHA-256 of
 * the canonical JSON of the public key object, so a key is named the same on every device.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { canonicalize } from '@tufjs/canonical-json';
import { Key, Signature } from '@tufjs/models';

export interface PublicKeyFile {
  keyid: string;
  keytype: 'ed25519';
  scheme: 'ed25519';
  keyval: { public: string };
}

/** The 12-byte DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function keyIdOf(publicHex: string): string {
  const body = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
  return crypto.createHash('sha256').update(canonicalize(body)).digest('hex');
}

export function tufKey(publicHex: string): Key {
  return new Key({ keyID: keyIdOf(publicHex), keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: publicHex } });
}

export function publicHexOf(key: crypto.KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_PREFIX.length).toString('hex');
}

/** A new key pair: the private key as PKCS#8 DER (to seal or to write), the public half as hex. */
export function generateKey(): { privateDer: Buffer; publicHex: string; keyid: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const publicHex = publicHexOf(publicKey);
  return { privateDer: privateKey.export({ format: 'der', type: 'pkcs8' }), publicHex, keyid: keyIdOf(publicHex) };
}

/** Signs canonical bytes (what @tufjs/models' Metadata.sign hands a signer). */
export function signerFor(privateDer: Buffer): (data: Buffer) => Signature {
  const key = crypto.createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 private key');
  const keyid = keyIdOf(publicHexOf(crypto.createPublicKey(key)));
  return (data) => new Signature({ keyID: keyid, sig: crypto.sign(null, data, key).toString('hex') });
}

/**
 * `keygen`: the private key file (PEM, 0600, never overwriting a file) and `<file>.pub` beside it.
 * Returns the key id the holder reads out at the ceremony.
 */
export function writeKeyFiles(file: string): PublicKeyFile {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const publicHex = publicHexOf(publicKey);
  const pub: PublicKeyFile = { keyid: keyIdOf(publicHex), keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
  // 'wx': an existing key file is never replaced (it may be the only copy of someone's key).
  fs.writeFileSync(`${file}.pub`, JSON.stringify(pub, null, 2) + '\n', { flag: 'wx', mode: 0o644 });
  try {
    fs.writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    fs.rmSync(`${file}.pub`);
    throw err;
  }
  return pub;
}

export function readPrivateKeyFile(file: string): Buffer {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(fs.readFileSync(file));
  } catch {
    throw new Error(`${file}: not a private key file (carewall updates keygen writes one)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: not an Ed25519 key`);
  return key.export({ format: 'der', type: 'pkcs8' });
}

/** A public key file as given to a ceremony command; the key id is recomputed, never trusted. */
export function parsePublicKey(text: string, source: string): Key {
  let parsed: Partial<PublicKeyFile>;
  try {
    parsed = JSON.parse(text) as Partial<PublicKeyFile>;
  } catch {
    throw new Error(`${source}: not JSON (give the .pub file keygen wrote)`);
  }
  const hex = parsed?.keyval?.public;
  if (parsed?.keytype !== 'ed25519' || parsed.scheme !== 'ed25519' || typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex))
    throw new Error(`${source}: not an Ed25519 public key file (give the .pub file keygen wrote)`);
  if (parsed.keyid !== undefined && parsed.keyid !== keyIdOf(hex)) throw new Error(`${source}: its keyid does not match its key`);
  return tufKey(hex);
}
