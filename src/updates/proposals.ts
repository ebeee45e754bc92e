/**
 * The next version of root, top-level targets or a device class's targets, built from the current
 * one. Pure: the service stores what these return and the holders sign it offline. Roles and
 * delegations are built as TUF JSON and parsed by @tufjs/models (which exports no constructor for
 * them), so what is proposed is exactly what a device will parse.
 */
import { Key, Root, TargetFile, Targets } from '@tufjs/models';
import { ROLE_FIELD } from './offline.js';

export const SPEC_VERSION = '1.0.31';
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long each role's metadata holds (TUF's freeze protection): see docs/updates.md. */
export const LIFETIME_MS = { root: 365 * DAY_MS, targets: 90 * DAY_MS, snapshot: 7 * DAY_MS, timestamp: DAY_MS };
export const TOP_LEVEL = new Set(['root', 'targets', 'snapshot', 'timestamp']);

/** TUF's expires: UTC, whole seconds. */
export function expiresAfter(now: Date, ms: number): string {
  return new Date(now.getTime() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A device class is a delegated role and the first part of its targets' paths, so no dots or slashes. */
export function checkClassName(name: string): void {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name) || name.length > 64 || TOP_LEVEL.has(name))
    throw new Error(`device class '${name}': lower-case letters, digits and single hyphens (up to 64), not a top-level role name`);
}

/** The one path pattern of a class: `<class>.<file>`; the class has no dot, so no class covers another's. */
export const classPattern = (deviceClass: string) => `${deviceClass}.*`;

function distinct(keys: Key[], what: string): Key[] {
  const ids = new Set(keys.map((k) => k.keyID));
  if (ids.size !== keys.length) throw new Error(`${what}: the same key is given twice`);
  return keys;
}

export interface RootPlan {
  version: number;
  expires: string;
  rootKeys: Key[];
  rootThreshold: number;
  targetsKeys: Key[];
  targetsThreshold: number;
  snapshotKey: Key;
  timestampKey: Key;
}

export function buildRoot(p: RootPlan): Root {
  distinct(p.rootKeys, 'root keys');
  distinct(p.targetsKeys, 'targets keys');
  // One person must never be able to re-root every device alone.
  if (p.rootThreshold < 2) throw new Error('the root threshold must be at least 2');
  if (p.rootKeys.length < p.rootThreshold) throw new Error(`a root threshold of ${p.rootThreshold} needs at least that many root keys`);
  if (p.targetsThreshold < 1 || p.targetsKeys.length < p.targetsThreshold)
    throw new Error(`a targets threshold of ${p.targetsThreshold} needs at least that many targets keys`);
  const online = new Set([p.snapshotKey.keyID, p.timestampKey.keyID]);
  if ([...p.rootKeys, ...p.targetsKeys].some((k) => online.has(k.keyID))) throw new Error('an offline role cannot use an online key');
  const keys: Record<string, unknown> = {};
  for (const k of [...p.rootKeys, ...p.targetsKeys, p.snapshotKey, p.timestampKey]) keys[k.keyID] = k.toJSON();
  const role = (ks: Key[], threshold: number) => ({ keyids: ks.map((k) => k.keyID), threshold });
  return Root.fromJSON({
    _type: 'root',
    spec_version: SPEC_VERSION,
    version: p.version,
    expires: p.expires,
    consistent_snapshot: true,
    keys,
    roles: {
      root: role(p.rootKeys, p.rootThreshold),
      targets: role(p.targetsKeys, p.targetsThreshold),
      snapshot: role([p.snapshotKey], 1),
      timestamp: role([p.timestampKey], 1),
    },
  } as never);
}

export interface DelegationPlan {
  deviceClass: string;
  engineerKeys: Key[];
  lifeCritical: boolean;
  expires: string;
}

/** Top-level targets with the class delegated to these engineers' keys (replacing its former keys). */
export function buildDelegation(current: Targets | undefined, p: DelegationPlan): Targets {
  checkClassName(p.deviceClass);
  distinct(p.engineerKeys, 'engineer keys');
  const threshold = p.lifeCritical ? 2 : 1;
  if (p.engineerKeys.length < threshold)
    throw new Error(`a life-critical class needs two different engineers: give at least 2 engineer keys (${p.engineerKeys.length} given)`);
  const currentJson = current?.toJSON() as { delegations?: { keys: Record<string, unknown>; roles: Array<{ name: string; keyids: string[] }> } } | undefined;
  const others = (currentJson?.delegations?.roles ?? []).filter((r) => r.name !== p.deviceClass);
  const roles = [
    ...others,
    { name: p.deviceClass, keyids: p.engineerKeys.map((k) => k.keyID), threshold, terminating: true, paths: [classPattern(p.deviceClass)] },
  ];
  // Only the keys some role still names.
  const known: Record<string, unknown> = { ...(currentJson?.delegations?.keys ?? {}) };
  for (const k of p.engineerKeys) known[k.keyID] = k.toJSON();
  const keys: Record<string, unknown> = {};
  for (const r of roles) for (const id of r.keyids) keys[id] = known[id];
  return Targets.fromJSON({
    ...(current?.toJSON() ?? { _type: 'targets', spec_version: SPEC_VERSION, targets: {} }),
    version: (current?.version ?? 0) + 1,
    expires: p.expires,
    delegations: { keys, roles },
  } as never);
}

export interface ReleasePlan {
  deviceClass: string;
  name: string;
  sha256: string;
  length: number;
  hardwareIds: string[];
  releaseCounter: number;
  minUpgradeFrom: string;
  /** The version the image installs: what a device reports and compares min-upgrade-from with. */
  version?: string;
  /** The vendor's own signature of the image, checked on import and again by the device. */
  vendor?: { name: string; keyid: string; signature: string };
  expires: string;
}

export function targetPath(deviceClass: string, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(name)) throw new Error(`image name '${name}': letters, digits, . _ + - (up to 128), no folders`);
  return `${deviceClass}.${name}`;
}

/** Checks a release against the class's current targets before anything is stored. */
export function checkRelease(current: Targets | undefined, p: Omit<ReleasePlan, 'sha256' | 'length' | 'expires'>): string {
  const path = targetPath(p.deviceClass, p.name);
  if (p.hardwareIds.length === 0 || p.hardwareIds.some((h) => !/^[\x21-\x7e]{1,128}$/.test(h)))
    throw new Error('give at least one hardware id (printable, no spaces)');
  if (!Number.isSafeInteger(p.releaseCounter) || p.releaseCounter < 1) throw new Error('the release counter is a whole number from 1');
  if (!p.minUpgradeFrom || p.minUpgradeFrom.length > 64) throw new Error('give the minimum version a device may upgrade from');
  if (p.version !== undefined && (!p.version || p.version.length > 64)) throw new Error('the version is 1 to 64 characters');
  if (current?.targets[path]) throw new Error(`${path} is already released; an image is never replaced (give the new image a new name)`);
  const highest = Math.max(0, ...Object.values(current?.targets ?? {}).map((t) => Number(t.custom.releaseCounter) || 0));
  if (p.releaseCounter <= highest)
    throw new Error(`release counter ${p.releaseCounter} must be above ${highest}, the highest of the class (devices refuse to go back)`);
  return path;
}

export function buildRelease(current: Targets | undefined, p: ReleasePlan): Targets {
  const path = checkRelease(current, p);
  const target = new TargetFile({
    path,
    length: p.length,
    hashes: { sha256: p.sha256 },
    unrecognizedFields: {
      custom: {
        hardwareIds: p.hardwareIds,
        releaseCounter: p.releaseCounter,
        minUpgradeFrom: p.minUpgradeFrom,
        ...(p.version === undefined ? {} : { version: p.version }),
        ...(p.vendor === undefined ? {} : { vendor: p.vendor }),
      },
    },
  });
  return new Targets({
    version: (current?.version ?? 0) + 1,
    specVersion: SPEC_VERSION,
    expires: p.expires,
    targets: { ...(current?.targets ?? {}), [path]: target },
  });
}

/** The file handed to the key holders: TUF metadata with no signatures yet, and its role's name. */
export function unsignedFile(role: string, signed: Root | Targets): string {
  return JSON.stringify({ signed: signed.toJSON(), signatures: [], [ROLE_FIELD]: role }, null, 2) + '\n';
}
