/**
 * What the agent keeps on the device, and where. The install folder holds images only; the agent's
 * own state lives in a hidden folder BESIDE it (`<parent>/.<install folder name>.carewall-agent/`),
 * on the same file system, so that a verified image moves into the install folder by one rename:
 *   metadata/   tuf-js's trusted metadata (root.json seeded from --root on the first run)
 *   staging/    one temporary folder per run; what is downloaded waits here until verified
 *   state.json  what the agent installed: target, sha256, version, release counter
 * Device facts come from provisioning (`carewall device init`): `<device key>.json` beside the key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { publicKeyHex } from './manifest.js';

/**
 * A check did not hold: the agent refuses, exit code 3, nothing written into the install folder.
 * `notNow` marks a refusal of timing (outside the maintenance window), not of the release; the
 * others are reported to the server (`refusal` in the manifest), which halts the release's rollout.
 */
export class Refusal extends Error {
  /** The image the refusal is about, when the agent knew which. */
  target?: string;
  /** What the device runs (unchanged by the refusal), when the agent had read it. */
  installed?: Installed;
  constructor(
    message: string,
    readonly notNow = false,
  ) {
    super(message);
  }
}

export interface DeviceConfig {
  deviceClass: string;
  hardwareId: string;
  /** The version the device shipped with: what min-upgrade-from is compared with until the agent installs something. */
  version: string;
  /**
   * The equipment vendor's public keys (PEM), provisioned with the device: when given, every image
   * must carry a valid signature of one of them (target custom `vendor`), checked on the device.
   */
  vendorKeys?: string[];
  /**
   * The director's root metadata (carewall director root), provisioned with the device: when given,
   * the device installs only what the director instructs and the image repository agrees with.
   */
  directorRoot?: unknown;
}

export interface Installed {
  target: string | null;
  sha256: string | null;
  version: string;
  releaseCounter: number;
}

export const configFileOf = (deviceKeyFile: string) => `${deviceKeyFile}.json`;

export function agentPaths(installDir: string) {
  const state = path.join(path.dirname(installDir), `.${path.basename(installDir)}.carewall-agent`);
  return { state, metadata: path.join(state, 'metadata'), staging: path.join(state, 'staging'), installed: path.join(state, 'state.json') };
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Refusal(`${what} ${file} cannot be read`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below, the same way as a JSON value of the wrong kind
  }
  throw new Refusal(`${what} ${file} is not a JSON object`);
}

export function readDeviceConfig(deviceKeyFile: string): DeviceConfig {
  const file = configFileOf(deviceKeyFile);
  const c = readJson(file, 'device config');
  for (const k of ['deviceClass', 'hardwareId', 'version'])
    if (typeof c[k] !== 'string' || !c[k]) throw new Refusal(`device config ${file}: ${k} is missing (carewall device init writes it)`);
  if (c.vendorKeys !== undefined && (!Array.isArray(c.vendorKeys) || !c.vendorKeys.every((k) => typeof k === 'string')))
    throw new Refusal(`device config ${file}: vendorKeys is a list of PEM public keys`);
  return c as unknown as DeviceConfig;
}

export function readDeviceKey(file: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(fs.readFileSync(file));
  } catch {
    throw new Refusal(`device key ${file} is not a private key file`); // never its contents
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Refusal(`device key ${file} is not an Ed25519 key`);
  return key;
}

export function readInstalled(file: string, config: DeviceConfig): Installed {
  if (!fs.existsSync(file)) return { target: null, sha256: null, version: config.version, releaseCounter: 0 };
  const s = readJson(file, 'agent state');
  if (!Number.isSafeInteger(s.releaseCounter) || typeof s.version !== 'string') throw new Refusal(`agent state ${file} is damaged`);
  return s as unknown as Installed;
}

/** Written beside and renamed over: a crash leaves the old state or the new, never half of one. */
export function writeInstalled(file: string, installed: Installed): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(installed, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/**
 * Provisioning: the device's own key (PEM, 0600), its public half in the shape of TUF's key object
 * (`<file>.pub`, what `carewall updates device add` is given) and its config (`<file>.json`).
 * Existing files are never replaced.
 */
export function provisionDevice(keyFile: string, config: DeviceConfig): { publicKeyFile: string; configFile: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const pub = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicKeyHex(publicKey) } };
  const files = [`${keyFile}.pub`, configFileOf(keyFile), keyFile];
  const existing = files.find((f) => fs.existsSync(f));
  if (existing) throw new Error(`${existing} exists already; it is not replaced`);
  fs.writeFileSync(files[0], JSON.stringify(pub, null, 2) + '\n', { flag: 'wx' });
  fs.writeFileSync(files[1], JSON.stringify(config, null, 2) + '\n', { flag: 'wx' });
  fs.writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { flag: 'wx', mode: 0o600 });
  return { publicKeyFile: files[0], configFile: files[1] };
}

/** Dotted whole numbers (1, 1.4, 2.0.13), compared part by part; anything else cannot be ordered. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => {
    if (!/^\d{1,9}(\.\d{1,9}){0,7}$/.test(v)) throw new Refusal(`version '${v}' is not dotted whole numbers; it cannot be compared`);
    return v.split('.').map(Number);
  };
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
