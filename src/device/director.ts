/**
 * The director's side of the agent's full verification (docs/director.md, "What the device
 * checks"). The director's metadata for this device is refreshed with an unmodified tuf-js Updater
 * from the director root the device was provisioned with (signatures, thresholds, versions, expiry:
 * a frozen or replayed director is refused by tuf-js). Then the agent's own checks: one image at
 * most, meant for this device, inside its maintenance window; and it must be the very image the
 * image repository's engineers released (`mustAgree`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind, type TargetFile } from '@tufjs/models';
import { Refusal } from './state.js';

/** The custom fields the director copies from the image repository's target: they must be equal. */
const COPIED = ['hardwareIds', 'releaseCounter', 'version', 'minUpgradeFrom', 'vendor'] as const;

/** The one image the director tells this device to run now, verified; undefined when it lists none. */
export async function directorTarget(o: {
  server: string;
  deviceId: string;
  stateDir: string;
  directorRoot: unknown;
  now: Date;
}): Promise<TargetFile | undefined> {
  const metadataDir = path.join(o.stateDir, 'director');
  fs.mkdirSync(metadataDir, { recursive: true });
  // Trusted once, as the image repository's root: later runs start from the newest verified since.
  const trusted = path.join(metadataDir, 'root.json');
  if (!fs.existsSync(trusted)) fs.writeFileSync(trusted, JSON.stringify(o.directorRoot));
  // Loaded on first use (about 160 ms): the server imports this folder for its manifest checks only.
  const { Updater: TufUpdater } = await import('tuf-js');
  const updater = new TufUpdater({
    metadataDir,
    targetDir: metadataDir, // never downloaded into: images come from the image repository only
    metadataBaseUrl: `${o.server}/updates/director/${encodeURIComponent(o.deviceId)}/metadata`,
    targetBaseUrl: `${o.server}/updates/director/${encodeURIComponent(o.deviceId)}/none`,
    config: { fetchRetry: 1 },
  });
  try {
    await updater.refresh();
  } catch (err) {
    throw new Refusal(`the director did not verify: ${(err as Error).message}`);
  }
  const md = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(fs.readFileSync(path.join(metadataDir, 'targets.json'), 'utf8')) as never);
  const listed = Object.values(md.signed.targets);
  if (listed.length === 0) return undefined;
  if (listed.length > 1) throw new Refusal('the director lists more than one image for this device');
  const t = listed[0];
  if (t.custom.deviceId !== o.deviceId) throw new Refusal("the director's instruction is for another device");
  const notBefore = typeof t.custom.notBefore === 'string' ? Date.parse(t.custom.notBefore) : NaN;
  if (Number.isNaN(notBefore)) throw new Refusal("the director's instruction names no maintenance window");
  if (o.now.getTime() < notBefore) throw new Refusal(`outside the maintenance window: it opens at ${new Date(notBefore).toISOString()}`, true);
  if (o.now.getTime() >= Date.parse(md.signed.expires)) throw new Refusal(`outside the maintenance window: it closed at ${md.signed.expires}`, true);
  return t;
}

/** Uptane's full verification: the director's image and the image repository's are the same, field for field. */
export function mustAgree(director: TargetFile, image: TargetFile): void {
  if (director.length !== image.length || director.hashes.sha256 !== image.hashes.sha256)
    throw new Refusal(`the director and the image repository disagree about ${image.path} (length or hash)`);
  for (const field of COPIED)
    if (canonicalize((director.custom[field] ?? null) as never) !== canonicalize((image.custom[field] ?? null) as never))
      throw new Refusal(`the director and the image repository disagree about ${image.path} (${field})`);
}
