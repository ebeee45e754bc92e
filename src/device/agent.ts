/**
 * The device agent (issue 25): one run (`--once`) brings the device to the release meant for it, or
 * refuses. Every check is made on what an unmodified TUF client (tuf-js) verified against the root
 * the device was provisioned with; the server, the database and the network are not trusted. Only a
 * verified image reaches the install folder, by one rename. Then the agent reports a signed
 * manifest of what it runs; a failed report leaves the install standing (docs/updates.md).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Metadata, MetadataKind, type TargetFile } from '@tufjs/models';
import type { Updater } from 'tuf-js';
import { directorTarget, mustAgree } from './director.js';
import { signManifest, type DeviceManifest } from './manifest.js';
import { vendorKeyId, vendorSignatureHolds } from './vendorSignature.js';
import {
  agentPaths,
  compareVersions,
  readDeviceConfig,
  readDeviceKey,
  readInstalled,
  Refusal,
  writeInstalled,
  type DeviceConfig,
  type Installed,
} from './state.js';

export interface AgentOptions {
  server: string;
  rootFile: string;
  deviceKeyFile: string;
  deviceId: string;
  installDir: string;
  /** The manifest's time; tests give their own. */
  now?: () => Date;
  /**
   * For a device provisioned without a director (`device init` without `--director-root`): which of
   * its class's verified targets it takes; by default the newest release for its hardware
   * (`newestForHardware`). Whatever it picks, the agent's checks below still decide. A device
   * provisioned with a director ignores it: only the director's signed instruction names its image.
   */
  choose?: Chooser;
}

export type Chooser = (targets: TargetFile[], device: DeviceConfig) => string | undefined;

export type AgentResult =
  | { installed: string; version: string; releaseCounter: number; reported: boolean; reportError?: string }
  | { upToDate: true; reported: boolean; reportError?: string }
  | { refused: string };

/** A target path the agent will make a file of: `<class>.<name>`, no folders. */
const SAFE_PATH = /^[a-z0-9]+(-[a-z0-9]+)*\.[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export const newestForHardware: Chooser = (targets, device) =>
  targets.filter((t) => hardwareIdsOf(t).includes(device.hardwareId)).sort((a, b) => Number(b.custom.releaseCounter) - Number(a.custom.releaseCounter))[0]
    ?.path;

function hardwareIdsOf(t: TargetFile): string[] {
  const ids = t.custom.hardwareIds;
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

export async function runAgent(o: AgentOptions): Promise<AgentResult> {
  let report: (() => Promise<Installed>) | undefined;
  let result: AgentResult;
  try {
    const r = await bringUpToDate(o);
    report = async () => r.installed;
    result = r.result;
  } catch (err) {
    // A refusal's reason, or what tuf-js said; never a key or a file's contents.
    const reason = err instanceof Error ? err.message : String(err);
    // Told to the server too (best effort: the refusal stands either way), so that a rollout whose
    // release devices refuse halts instead of waiting for reports that never come.
    if (err instanceof Refusal && !err.notNow && err.installed)
      await sendManifest(o.server, { deviceKeyFile: o.deviceKeyFile, deviceId: o.deviceId }, err.installed, o.now ?? (() => new Date()), {
        target: err.target ?? null,
        reason: reason.slice(0, 500),
      }).catch(() => undefined);
    return { refused: reason };
  }
  const device = { deviceKeyFile: o.deviceKeyFile, deviceId: o.deviceId };
  try {
    await sendManifest(o.server, device, await report(), o.now ?? (() => new Date()));
    return { ...result, reported: true };
  } catch (err) {
    return { ...result, reported: false, reportError: (err as Error).message };
  }
}

async function bringUpToDate(o: AgentOptions): Promise<{ result: AgentResult & { reported: boolean }; installed: Installed }> {
  if (!/^https?:\/\//.test(o.server)) throw new Refusal(`server ${o.server} is not an http(s) address`);
  if (!fs.existsSync(o.installDir) || !fs.statSync(o.installDir).isDirectory()) throw new Refusal(`install folder ${o.installDir} does not exist`);
  const device = readDeviceConfig(o.deviceKeyFile);
  readDeviceKey(o.deviceKeyFile); // a device that cannot sign its report is refused before anything changes
  const paths = agentPaths(path.resolve(o.installDir));
  const installed = readInstalled(paths.installed, device);
  try {
    return await verifyAndInstall(o, device, paths, installed);
  } catch (err) {
    if (err instanceof Refusal) err.installed ??= installed;
    throw err;
  }
}

async function verifyAndInstall(
  o: AgentOptions,
  device: DeviceConfig,
  paths: ReturnType<typeof agentPaths>,
  installed: Installed,
): Promise<{ result: AgentResult & { reported: boolean }; installed: Installed }> {
  fs.mkdirSync(paths.metadata, { recursive: true });
  fs.mkdirSync(paths.staging, { recursive: true });
  // The provisioned root is trusted once; later runs start from the newest root verified since.
  const trusted = path.join(paths.metadata, 'root.json');
  if (!fs.existsSync(trusted)) {
    try {
      fs.copyFileSync(o.rootFile, trusted);
    } catch {
      throw new Refusal(`trusted root ${o.rootFile} cannot be read`);
    }
  }
  const staging = fs.mkdtempSync(path.join(paths.staging, 'run-'));
  let chosen: string | undefined;
  try {
    const server = o.server.replace(/\/+$/, '');
    // Loaded on first use (about 160 ms): the server imports this folder for its manifest checks only.
    const { Updater: TufUpdater } = await import('tuf-js');
    const updater = new TufUpdater({
      metadataDir: paths.metadata,
      targetDir: staging,
      metadataBaseUrl: `${server}/updates/metadata`,
      targetBaseUrl: `${server}/updates/targets`,
      config: { fetchRetry: 1 },
    });
    let instructed: TargetFile | undefined;
    if (device.directorRoot !== undefined) {
      // Provisioned with a director: it alone says which image, and when (Uptane full verification).
      const now = (o.now ?? (() => new Date()))();
      instructed = await directorTarget({ server, deviceId: o.deviceId, stateDir: paths.state, directorRoot: device.directorRoot, now });
      chosen = instructed?.path;
      if (!chosen) return { result: { upToDate: true, reported: false }, installed };
      await updater.refresh();
    } else {
      const targets = await classTargets(updater, paths.metadata, device.deviceClass);
      chosen = (o.choose ?? newestForHardware)(targets, device);
      if (!chosen) {
        if (targets.length > 0) throw new Refusal(`no release of class ${device.deviceClass} is for hardware ${device.hardwareId}`);
        return { result: { upToDate: true, reported: false }, installed };
      }
    }
    // The target as tuf-js verified it (signatures, thresholds, delegation): the source of every check.
    const info = await updater.getTargetInfo(chosen);
    if (!info) throw new Refusal(`${chosen} is not a verified target of the repository`);
    if (instructed) mustAgree(instructed, info);
    const sha256 = info.hashes.sha256;
    if (!SAFE_PATH.test(info.path) || !info.path.startsWith(`${device.deviceClass}.`))
      throw new Refusal(`${info.path} is not an image of class ${device.deviceClass}`);
    if (!hardwareIdsOf(info).includes(device.hardwareId)) throw new Refusal(`${info.path} is not for hardware ${device.hardwareId}`);
    const counter = info.custom.releaseCounter;
    if (!Number.isSafeInteger(counter)) throw new Refusal(`${info.path} has no release counter`);
    if (info.path === installed.target && sha256 === installed.sha256) return { result: { upToDate: true, reported: false }, installed };
    if ((counter as number) <= installed.releaseCounter)
      throw new Refusal(`rollback: ${info.path} has release counter ${String(counter)}, not above the installed ${installed.releaseCounter}`);
    const { version, minUpgradeFrom } = info.custom;
    if (typeof version !== 'string' || !version) throw new Refusal(`${info.path} names no version (stage it with --version)`);
    if (typeof minUpgradeFrom !== 'string') throw new Refusal(`${info.path} names no minimum version to upgrade from`);
    if (compareVersions(minUpgradeFrom, installed.version) > 0)
      throw new Refusal(`${info.path} needs version ${minUpgradeFrom} or later installed first; this device runs ${installed.version}`);
    const staged = path.join(staging, 'image');
    try {
      await updater.downloadTarget(info, staged); // tuf-js checks length and hashes before it writes here
    } catch (err) {
      throw new Refusal(`${info.path} did not verify: ${(err as Error).message}`);
    }
    // Checked again as it lies in staging: these are the bytes the rename will install.
    if (!(await sameBytes(staged, info.length, sha256))) throw new Refusal(`${info.path} changed after it was verified`);
    await checkVendorSignature(info, staged, device);
    const fd = fs.openSync(staged, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(staged, path.join(o.installDir, info.path));
    const now: Installed = { target: info.path, sha256, version, releaseCounter: counter as number };
    writeInstalled(paths.installed, now);
    return { result: { installed: info.path, version, releaseCounter: now.releaseCounter, reported: false }, installed: now };
  } catch (err) {
    const refusal = err instanceof Refusal ? err : new Refusal(`the repository did not verify: ${(err as Error).message}`);
    refusal.target ??= chosen;
    throw refusal;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Length and SHA-256 of the file as it lies, read as a stream (an image can be hundreds of megabytes). */
async function sameBytes(file: string, length: number, sha256: string | undefined): Promise<boolean> {
  const hash = crypto.createHash('sha256');
  let seen = 0;
  for await (const piece of fs.createReadStream(file)) {
    hash.update(piece as Buffer);
    seen += (piece as Buffer).length;
  }
  return seen === length && hash.digest('hex') === sha256;
}

/**
 * The vendor's own signature, checked on the device against the vendor keys it was provisioned
 * with (not the server's list): a release the engineers signed over a vendor image that is not the
 * vendor's is still refused. A device provisioned without vendor keys skips this check.
 */
async function checkVendorSignature(info: TargetFile, staged: string, device: DeviceConfig): Promise<void> {
  const keys = device.vendorKeys ?? [];
  if (keys.length === 0) return;
  const v = info.custom.vendor as { keyid?: unknown; signature?: unknown } | undefined;
  if (typeof v?.keyid !== 'string' || typeof v.signature !== 'string') throw new Refusal(`${info.path} carries no vendor signature`);
  const key = keys.find((pem) => vendorKeyId(pem) === v.keyid);
  if (!key) throw new Refusal(`${info.path} is signed by a vendor key this device does not know`);
  if (!(await vendorSignatureHolds(staged, Buffer.from(v.signature, 'base64'), key))) throw new Refusal(`${info.path}: the vendor signature does not verify`);
}

/**
 * Every target of the class's role, as verified by tuf-js. tuf-js looks targets up by path only, so
 * the agent asks for a path in the class's pattern that no release has: the walk verifies the class's
 * metadata (delegation, signatures, threshold, snapshot version) and keeps it in the metadata folder,
 * from where it is read. The chosen target is then looked up again by path, through tuf-js.
 */
async function classTargets(updater: Updater, metadataDir: string, deviceClass: string): Promise<TargetFile[]> {
  await updater.refresh();
  await updater.getTargetInfo(`${deviceClass}.carewall-agent-listing`);
  const file = path.join(metadataDir, `${encodeURIComponent(deviceClass)}.json`);
  if (!fs.existsSync(file)) return []; // the class is not delegated, or has released nothing
  const role = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(fs.readFileSync(file, 'utf8')) as never);
  return Object.values(role.signed.targets);
}

async function sendManifest(
  server: string,
  device: { deviceKeyFile: string; deviceId: string },
  now: Installed,
  clock: () => Date,
  refusal?: DeviceManifest['refusal'],
): Promise<void> {
  const manifest: DeviceManifest = {
    deviceId: device.deviceId,
    target: now.target,
    sha256: now.sha256,
    version: now.version,
    releaseCounter: now.releaseCounter,
    time: clock().toISOString(),
    ...(refusal ? { refusal } : {}),
  };
  const body = JSON.stringify(signManifest(manifest, readDeviceKey(device.deviceKeyFile)));
  const url = `${server.replace(/\/+$/, '')}/updates/devices/${encodeURIComponent(device.deviceId)}/manifest`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`the server could not be reached: ${(err as Error).message}`);
  }
  if (res.status !== 201) throw new Error(`the server refused the manifest (${res.status}): ${(await res.text()).slice(0, 200)}`);
}
