/**
 * An equipment vendor's own signature over an image, checked when the image is imported and again
 * on the device before it is installed. What vendors ship is a detached signature of the file as
 * `openssl dgst -sha256 -sign vendor.pem -out fw.sig fw.img` makes it (RSA PKCS#1 v1.5 or ECDSA,
 * over SHA-256): that is what is accepted, read as a stream so a large image never sits in memory.
 * Ed25519 signs the whole message in one go and would need the image in memory: not accepted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** A vendor key's id: SHA-256 (hex) of its SubjectPublicKeyInfo DER, the same on server and device. */
export function vendorKeyId(publicPem: string): string {
  return crypto
    .createHash('sha256')
    .update(vendorPublicKey(publicPem).export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The vendor's PEM public key, RSA (2048 bits or more) or ECDSA; a clear error otherwise. */
export function vendorPublicKey(publicPem: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(publicPem);
  } catch {
    throw new Error('not a PEM public key');
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('an RSA vendor key must have at least 2048 bits');
  } else if (key.asymmetricKeyType !== 'ec') throw new Error('a vendor key is RSA or ECDSA (what openssl dgst -sha256 -sign uses)');
  return key;
}

/** Whether `signature` (raw bytes) is the vendor's SHA-256 signature of `file`'s bytes. */
export async function vendorSignatureHolds(file: string, signature: Buffer, publicPem: string): Promise<boolean> {
  const key = vendorPublicKey(publicPem);
  const verify = crypto.createVerify('sha256');
  for await (const piece of fs.createReadStream(file)) verify.update(piece as Buffer);
  try {
    return verify.verify(key, signature);
  } catch {
    return false; // a malformed signature is simply not the vendor's
  }
}
