/**
 * Each device's director metadata (docs/director.md, "What a device is told"): a targets file
 * listing at most the one image the device should run now, with a snapshot and a timestamp, all
 * signed by the director's online key. It is signed when a device asks and what it should be told
 * has changed, or its files are past half their life; otherwise the files signed before are served.
 *
 * An instruction lives only as long as the maintenance window it is for: the targets metadata
 * expires when the window closes (tuf-js refuses expired metadata), and the target names the
 * window's start (`notBefore`), which the device checks too.
 */
import crypto from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetaFile, Snapshot, TargetFile, Targets, Timestamp, type Root } from '@tufjs/models';
import type { Database, Queryable } from '../db/index.js';
import { SPEC_VERSION } from '../updates/index.js';
import type { DirectorRoot } from './root.js';

/** What a device should be told now: one image and its window, or nothing. */
export interface Instruction {
  target?: { path: string; length: number; sha256: string; custom: Record<string, unknown> };
  /** When the targets metadata expires: the window's end, or a day on when there is nothing to do. */
  expires: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Serialises signing per device across processes. */
const LOCK_SPACE = 7_243_026;

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
/** TUF's expires: UTC, whole seconds. */
const tufTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function nothingToDo(now: Date): Instruction {
  return { expires: tufTime(new Date(now.getTime() + DAY_MS)) };
}

export function instructionUntil(target: NonNullable<Instruction['target']>, end: Date): Instruction {
  return { target, expires: tufTime(end) };
}

export class DeviceMetadata {
  constructor(
    private readonly db: Database,
    private readonly root: DirectorRoot,
    private readonly now: () => Date,
  ) {}

  /** A served file of the device: `timestamp`, or a version of `snapshot` or `targets`. */
  async file(deviceId: string, role: 'timestamp' | 'snapshot' | 'targets', version?: number): Promise<Buffer | undefined> {
    const r = await this.db.query<{ body: Buffer }>(
      version === undefined
        ? 'select body from director_device_metadata where device_id = $1 and role = $2 order by version desc limit 1'
        : 'select body from director_device_metadata where device_id = $1 and role = $2 and version = $3',
      version === undefined ? [deviceId, role] : [deviceId, role, version],
    );
    return r.rows[0] && Buffer.from(r.rows[0].body);
  }

  /**
   * Brings the device's files up to `want`: signs new targets, snapshot and timestamp when the
   * instruction differs from the one signed last, or the last files are past half their life.
   * Returns whether it signed (the caller records a changed instruction).
   */
  async bringUpTo(deviceId: string, want: Instruction): Promise<{ signed: boolean; changed: boolean }> {
    return this.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1, hashtext($2))', [LOCK_SPACE, deviceId]);
      const root = await this.root.current(tx);
      if (!root) throw new Error("the director has no root yet: run 'carewall director init-root' and sign it");
      const last = await this.latest(tx, deviceId);
      const changed = !last || canonicalize(last.instruction as never) !== canonicalize(want as never);
      const now = this.now().getTime();
      const halfGone = last !== undefined && (last.timestampExpires.getTime() - now) * 2 < DAY_MS && !want.target;
      const expired = last !== undefined && last.timestampExpires.getTime() <= now;
      // The root names another online key (rotated): what the old one signed no longer verifies.
      const rekeyed = last !== undefined && !root.signed.roles.timestamp.keyIDs.includes(last.timestampKeyId ?? '');
      if (!changed && !halfGone && !expired && !rekeyed) return { signed: false, changed: false };
      await this.sign(tx, deviceId, want, root.signed, last);
      return { signed: true, changed };
    });
  }

  private async latest(q: Queryable, deviceId: string) {
    const r = await q.query<{ role: string; version: number; instruction: Instruction | null; expires_at: Date; body: Buffer }>(
      `select distinct on (role) role, version, instruction, expires_at, body from director_device_metadata
        where device_id = $1 order by role, version desc`,
      [deviceId],
    );
    const by = new Map(r.rows.map((x) => [x.role, x]));
    const t = by.get('targets');
    const ts = by.get('timestamp');
    if (!t || !ts) return undefined;
    return {
      instruction: t.instruction,
      versions: { targets: t.version, snapshot: by.get('snapshot')!.version, timestamp: ts.version },
      timestampExpires: new Date(ts.expires_at),
      /** The key that signed the last timestamp (one online key signs all three). */
      timestampKeyId: (JSON.parse(Buffer.from(ts.body).toString('utf8')) as { signatures?: Array<{ keyid?: string }> }).signatures?.[0]?.keyid,
    };
  }

  private async sign(tx: Queryable, deviceId: string, want: Instruction, root: Root, last: Awaited<ReturnType<DeviceMetadata['latest']>>): Promise<void> {
    const sign = await this.root.onlineSigner(tx, root);
    const v = last?.versions ?? { targets: 0, snapshot: 0, timestamp: 0 };
    // The timestamp and snapshot live as long as the instruction, or a day when there is none.
    const expires = want.expires;
    const targets = new Targets({
      version: v.targets + 1,
      specVersion: SPEC_VERSION,
      expires,
      targets: want.target
        ? {
            [want.target.path]: new TargetFile({
              path: want.target.path,
              length: want.target.length,
              hashes: { sha256: want.target.sha256 },
              unrecognizedFields: { custom: want.target.custom as never },
            }),
          }
        : {},
    });
    const targetsMd = new Metadata(targets);
    targetsMd.sign(sign);
    const targetsBody = Buffer.from(JSON.stringify(targetsMd.toJSON()));
    const snapshot = new Metadata(
      new Snapshot({
        version: v.snapshot + 1,
        specVersion: SPEC_VERSION,
        expires,
        meta: { 'targets.json': new MetaFile({ version: targets.version, length: targetsBody.length, hashes: { sha256: sha256(targetsBody) } }) },
      }),
    );
    snapshot.sign(sign);
    const snapshotBody = Buffer.from(JSON.stringify(snapshot.toJSON()));
    const timestamp = new Metadata(
      new Timestamp({
        version: v.timestamp + 1,
        specVersion: SPEC_VERSION,
        expires,
        snapshotMeta: new MetaFile({ version: snapshot.signed.version, length: snapshotBody.length, hashes: { sha256: sha256(snapshotBody) } }),
      }),
    );
    timestamp.sign(sign);
    const rows: Array<[string, number, Buffer, Instruction | null]> = [
      ['targets', targets.version, targetsBody, want],
      ['snapshot', snapshot.signed.version, snapshotBody, null],
      ['timestamp', timestamp.signed.version, Buffer.from(JSON.stringify(timestamp.toJSON())), null],
    ];
    for (const [role, version, body, instruction] of rows)
      await tx.query('insert into director_device_metadata (device_id, role, version, body, expires_at, instruction) values ($1, $2, $3, $4, $5, $6)', [
        deviceId,
        role,
        version,
        body,
        expires,
        instruction === null ? null : JSON.stringify(instruction),
      ]);
  }
}
