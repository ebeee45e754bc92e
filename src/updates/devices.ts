/**
 * Devices and what they report (docs/updates.md, "The device agent"). A device is registered with
 * its own Ed25519 public key; its manifests are accepted only with a signature of that key, kept as
 * signed (write-once rows), and flagged when they name an image the repository never released for
 * the device's class. A device that never reported, or has been silent a week, is flagged too.
 */
import type { Database } from '../db/index.js';
import { manifestSignatureHolds, parseManifest, type SignedManifest } from '../device/index.js';
import { parseStrictJson } from '../util/index.js';
import type { EquipmentAudit, RequestDetails } from '../shared/index.js';
import { checkClassName } from './proposals.js';

/** A device that runs the agent daily has reported within a week unless something is wrong. */
export const SILENT_AFTER_MS = 7 * 24 * 60 * 60 * 1000;
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A manifest refused: `status` is the HTTP answer (400 malformed, 403 not the device's, 409 replayed). */
export class ManifestRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface DeviceStatus {
  id: string;
  deviceClass: string;
  hardwareId: string;
  registeredAt: string;
  lastReport: { at: string; target: string | null; sha256: string | null; version: string; releaseCounter: number; knownImage: boolean } | null;
  flags: Array<'never-reported' | 'unknown-image' | 'silent'>;
}

/** A device's signed word that it refused an image (a check failed), after it was recorded. */
export interface DeviceRefusal {
  deviceId: string;
  deviceClass: string;
  target: string | null;
  reason: string;
}

export class DeviceRegistry {
  /** Where each report and refusal is recorded (the audit log in the server). */
  audit: EquipmentAudit = async () => undefined;
  /** Told of each refusal a device reports (the director halts the release's rollout). */
  onRefusal: (refusal: DeviceRefusal) => Promise<void> = async () => undefined;

  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  async add(d: { id: string; deviceClass: string; hardwareId: string; publicHex: string }): Promise<void> {
    if (!DEVICE_ID.test(d.id)) throw new Error(`device id '${d.id}': letters, digits, . _ - (up to 64)`);
    checkClassName(d.deviceClass);
    if (!/^[\x21-\x7e]{1,128}$/.test(d.hardwareId)) throw new Error('the hardware id is printable, no spaces, up to 128');
    // A device's key is never replaced in place: whoever could would speak for the device.
    const r = await this.db.query(
      'insert into updates_device (id, device_class, hardware_id, public_hex) values ($1, $2, $3, $4) on conflict (id) do nothing',
      [d.id, d.deviceClass, d.hardwareId, d.publicHex],
    );
    if (r.rowCount === 0) throw new Error(`device ${d.id} is registered already; its key is not replaced`);
  }

  /**
   * Verifies and keeps a manifest POSTed by device `id`; returns whether it names a released image.
   * Recorded either way, with the request it came by.
   */
  async receive(id: string, body: unknown, request?: RequestDetails): Promise<{ knownImage: boolean }> {
    try {
      const { knownImage, refusal } = await this.accept(id, body, request);
      if (refusal) await this.onRefusal(refusal);
      return { knownImage };
    } catch (err) {
      if (err instanceof ManifestRefused)
        await this.audit({ action: 'device.manifest', outcome: 'denied', who: { device: DEVICE_ID.test(id) ? id : 'unknown', request }, reason: err.message });
      throw err;
    }
  }

  private async accept(id: string, body: unknown, request: RequestDetails | undefined): Promise<{ knownImage: boolean; refusal?: DeviceRefusal }> {
    const s = body as Partial<SignedManifest> | null;
    if (typeof s !== 'object' || s === null || typeof s.manifest !== 'string' || typeof s.signature !== 'string')
      throw new ManifestRefused(400, 'send {"manifest": "<JSON text>", "signature": "<base64>"}');
    const device = await this.db.query<{ public_hex: string; device_class: string }>('select public_hex, device_class from updates_device where id = $1', [id]);
    // An unknown device and a wrong key get the same answer: the route does not tell which ids exist.
    if (!device.rows[0] || !manifestSignatureHolds(device.rows[0].public_hex, s as SignedManifest))
      throw new ManifestRefused(403, "the manifest is not signed by a registered device's key");
    let m;
    try {
      m = parseManifest(parseStrictJson(Buffer.from(s.manifest)));
    } catch (err) {
      throw new ManifestRefused(400, (err as Error).message);
    }
    if (m.deviceId !== id) throw new ManifestRefused(400, 'the manifest names another device');
    return this.db.transaction(async (tx) => {
      await tx.query('select 1 from updates_device where id = $1 for update', [id]); // one report of a device at a time
      const last = await tx.query<{ device_time: Date }>('select max(device_time) device_time from updates_device_manifest where device_id = $1', [id]);
      // A manifest sent again (or an older one) is not a new report of what runs now.
      if (last.rows[0]?.device_time && new Date(m.time) <= new Date(last.rows[0].device_time))
        throw new ManifestRefused(409, 'the manifest is not later than the last one this device reported');
      const known =
        m.target === null ||
        (m.target.startsWith(`${device.rows[0].device_class}.`) &&
          (await tx.query('select 1 from updates_release where path = $1 and sha256 = $2', [m.target, m.sha256])).rows.length > 0);
      await tx.query(
        `insert into updates_device_manifest (device_id, manifest, signature, target, sha256, device_time, known_image)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [id, s.manifest, s.signature, m.target, m.sha256, m.time, known],
      );
      await this.audit({
        action: 'device.manifest',
        outcome: 'success',
        who: { device: id, request },
        resource: { type: 'Device', id },
        details: { target: m.target ?? 'factory image', version: m.version, knownImage: known },
        tx,
      });
      if (!m.refusal) return { knownImage: known };
      await this.audit({
        action: 'device.refused-update',
        outcome: 'failure',
        who: { device: id, request },
        resource: { type: 'Device', id },
        reason: m.refusal.reason,
        details: { target: m.refusal.target ?? 'not known' },
        tx,
      });
      return { knownImage: known, refusal: { deviceId: id, deviceClass: device.rows[0].device_class, ...m.refusal } };
    });
  }

  /** Every registered device, or those of one class, or with these ids. */
  async list(filter: { deviceClass?: string; ids?: string[] } = {}): Promise<DeviceStatus[]> {
    const r = await this.db.query<{
      id: string;
      device_class: string;
      hardware_id: string;
      registered_at: Date;
      manifest: string | null;
      known_image: boolean | null;
      received_at: Date | null;
    }>(
      `select d.id, d.device_class, d.hardware_id, d.registered_at, m.manifest, m.known_image, m.received_at
         from updates_device d
         left join lateral (select manifest, known_image, received_at from updates_device_manifest
                             where device_id = d.id order by n desc limit 1) m on true
        where ($1::text is null or d.device_class = $1) and ($2::text[] is null or d.id = any($2))
        order by d.id`,
      [filter.deviceClass ?? null, filter.ids ?? null],
    );
    const now = this.now().getTime();
    return r.rows.map((row) => {
      const m = row.manifest === null ? undefined : parseManifest(JSON.parse(row.manifest));
      const flags: DeviceStatus['flags'] = [];
      if (!m) flags.push('never-reported');
      if (row.known_image === false) flags.push('unknown-image');
      if (row.received_at && now - new Date(row.received_at).getTime() > SILENT_AFTER_MS) flags.push('silent');
      return {
        id: row.id,
        deviceClass: row.device_class,
        hardwareId: row.hardware_id,
        registeredAt: new Date(row.registered_at).toISOString(),
        lastReport: m
          ? {
              at: new Date(row.received_at!).toISOString(),
              target: m.target,
              sha256: m.sha256,
              version: m.version,
              releaseCounter: m.releaseCounter,
              knownImage: row.known_image!,
            }
          : null,
        flags,
      };
    });
  }
}
