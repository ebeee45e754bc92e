/**
 * The manifest a device reports after each run: what it runs, signed with its own Ed25519 key.
 * The signed bytes are a fixed prefix and the manifest's JSON text exactly as sent, so the server
 * verifies what it stores without re-serialising anything, and a signature made for this purpose
 * can never be passed off as one made for another (the prefix names the purpose and its version).
 */
import crypto from 'node:crypto';

export const MANIFEST_CONTEXT = 'carewall-device-manifest-v1\n';

export interface DeviceManifest {
  deviceId: string;
  /** The target path installed by the agent; null while the device runs its factory image. */
  target: string | null;
  sha256: string | null;
  version: string;
  releaseCounter: number;
  /** ISO 8601, the device's clock: each manifest of a device must be later than its last. */
  time: string;
  /** The agent refused an image (a check failed; timing aside): which, and why. What runs is unchanged. */
  refusal?: { target: string | null; reason: string };
}

/** What is POSTed to `/updates/devices/{id}/manifest`. */
export interface SignedManifest {
  manifest: string;
  /** Ed25519 over MANIFEST_CONTEXT + manifest, base64. */
  signature: string;
}

/** The 12-byte DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyHex(key: crypto.KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('hex');
}

export function signManifest(m: DeviceManifest, privateKey: crypto.KeyObject): SignedManifest {
  const manifest = JSON.stringify(m);
  const signature = crypto.sign(null, Buffer.from(MANIFEST_CONTEXT + manifest), privateKey).toString('base64');
  return { manifest, signature };
}

/** True only when `signature` is the key's (given as TUF's hex of the raw public key) over the manifest text. */
export function manifestSignatureHolds(publicHex: string, s: SignedManifest): boolean {
  if (!/^[0-9a-f]{64}$/.test(publicHex) || typeof s.manifest !== 'string' || typeof s.signature !== 'string') return false;
  const key = crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicHex, 'hex')]), format: 'der', type: 'spki' });
  const sig = Buffer.from(s.signature, 'base64');
  if (sig.length !== 64) return false;
  return crypto.verify(null, Buffer.from(MANIFEST_CONTEXT + s.manifest), key, sig);
}

/** The fields of a manifest whose signature held; throws naming the first field that is wrong. */
export function parseManifest(value: unknown): DeviceManifest {
  const m = value as Partial<DeviceManifest> | null;
  const fail = (field: string) => {
    throw new Error(`manifest: ${field} is missing or malformed`);
  };
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('the object');
  if (typeof m!.deviceId !== 'string') fail('deviceId');
  if (m!.target !== null && (typeof m!.target !== 'string' || m!.target.length > 200)) fail('target');
  if (m!.sha256 !== null && (typeof m!.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m!.sha256))) fail('sha256');
  if ((m!.target === null) !== (m!.sha256 === null)) fail('sha256');
  if (typeof m!.version !== 'string' || m!.version.length > 64) fail('version');
  if (!Number.isSafeInteger(m!.releaseCounter) || m!.releaseCounter! < 0) fail('releaseCounter');
  if (typeof m!.time !== 'string' || Number.isNaN(Date.parse(m!.time))) fail('time');
  if (m!.refusal !== undefined) {
    const r = m!.refusal as Partial<NonNullable<DeviceManifest['refusal']>> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) fail('refusal');
    if (r!.target !== null && (typeof r!.target !== 'string' || r!.target.length > 200)) fail('refusal.target');
    if (typeof r!.reason !== 'string' || r!.reason.length === 0 || r!.reason.length > 500) fail('refusal.reason');
  }
  return m as DeviceManifest;
}
