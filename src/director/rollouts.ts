/**
 * Rollouts (docs/director.md, "Waves"): a published release given to a class's devices a canary
 * first, then in waves, each opened by an engineer of the class once every device of the waves
 * before has reported (a signed manifest) that it runs the release. A halt stops it at once: no
 * device is told to install it any more until someone resumes it, saying why.
 */
import crypto from 'node:crypto';
import type { Database } from '../db/index.js';
import type { EquipmentAudit, Who } from '../shared/index.js';
import type { UpdatesService } from '../updates/index.js';

export type MayRelease = (who: Who, deviceClass: string) => Promise<boolean>;

/** A refusal: `status` is the HTTP answer. */
export class DirectorRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface RolloutView {
  id: string;
  deviceClass: string;
  target: string;
  state: 'active' | 'halted' | 'replaced';
  openWaves: number;
  waves: Array<{ devices: Array<{ id: string; installed: boolean }> }>;
  createdBy: string;
  createdAt: string;
  events: Array<{ action: string; by: string; reason: string | null; at: string }>;
}

interface Row {
  id: string;
  class: string;
  target: string;
  sha256: string;
  waves: string[][];
  open_waves: number;
  state: RolloutView['state'];
  created_by: string;
  created_at: Date;
}

const REASON_MIN = 10;

export class Rollouts {
  constructor(
    private readonly db: Database,
    private readonly updates: UpdatesService,
    private readonly mayRelease: MayRelease,
    private readonly audit: EquipmentAudit,
    private readonly notify: (message: string) => Promise<void>,
  ) {}

  /**
   * A rollout of a published release to the class's devices whose hardware it is for: the canary
   * alone first, then waves of the given sizes, then the rest. Replaces the class's earlier rollout.
   */
  async create(who: Who, p: { target: string; canary: string; waves: number[] }): Promise<RolloutView> {
    const released = await this.updates.releasedTarget(p.target);
    if (!released) throw new DirectorRefused(404, 'no such published release');
    const deviceClass = p.target.split('.')[0];
    await this.requireRelease(who, deviceClass, 'rollout.create');
    if (p.waves.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new DirectorRefused(400, 'each wave has at least one device');
    const hardware = Array.isArray(released.custom.hardwareIds) ? (released.custom.hardwareIds as string[]) : [];
    const devices = (await this.updates.devices.list({ deviceClass })).filter((d) => hardware.includes(d.hardwareId)).map((d) => d.id);
    if (!devices.includes(p.canary)) throw new DirectorRefused(400, 'the canary must be a registered device of the class with hardware the release is for');
    const rest = devices.filter((d) => d !== p.canary);
    const waves = [[p.canary]];
    for (const n of p.waves) if (rest.length > 0) waves.push(rest.splice(0, n));
    if (rest.length > 0) waves.push(rest);
    const id = crypto.randomUUID();
    await this.db.transaction(async (tx) => {
      await tx.query(`update director_rollout set state = 'replaced' where class = $1 and state <> 'replaced'`, [deviceClass]);
      await tx.query(`insert into director_rollout (id, class, target, sha256, waves, state, created_by) values ($1, $2, $3, $4, $5, 'active', $6)`, [
        id,
        deviceClass,
        p.target,
        released.sha256,
        JSON.stringify(waves),
        who.username,
      ]);
      await tx.query(`insert into director_rollout_event (rollout_id, action, by_user) values ($1, 'created', $2)`, [id, who.username]);
    });
    await this.record(who, 'rollout.create', id, { target: p.target, canary: p.canary, waves: waves.length, devices: devices.length });
    return this.view(id);
  }

  /** Opens the next wave, once every device told so far runs the release. */
  async advance(who: Who, id: string): Promise<RolloutView> {
    const r = await this.row(id);
    await this.requireRelease(who, r.class, 'rollout.advance');
    if (r.state !== 'active') throw new DirectorRefused(409, `the rollout is ${r.state}`);
    if (r.open_waves >= r.waves.length) throw new DirectorRefused(409, 'every wave is open already');
    const view = await this.view(id);
    const waiting = view.waves.slice(0, r.open_waves).flatMap((w) => w.devices.filter((d) => !d.installed));
    if (waiting.length > 0)
      throw new DirectorRefused(409, `${waiting.length} device(s) of the open waves have not reported the release yet: ${waiting.map((d) => d.id).join(', ')}`);
    await this.db.query('update director_rollout set open_waves = open_waves + 1 where id = $1 and open_waves = $2', [id, r.open_waves]);
    await this.event(id, 'wave-opened', who);
    await this.record(who, 'rollout.advance', id, { wave: r.open_waves + 1 });
    return this.view(id);
  }

  /** The halt switch: no device is told to install the release until the rollout is resumed. */
  async halt(who: Who, id: string, reason: string): Promise<RolloutView> {
    const r = await this.row(id);
    await this.requireRelease(who, r.class, 'rollout.halt');
    this.requireReason(reason);
    if (r.state !== 'active') throw new DirectorRefused(409, `the rollout is ${r.state}`);
    await this.db.query(`update director_rollout set state = 'halted' where id = $1`, [id]);
    await this.event(id, 'halted', who, reason);
    await this.record(who, 'rollout.halt', id, { target: r.target }, reason);
    await this.notify(`The rollout of ${r.target} was halted by ${who.username}: ${reason.trim()}`);
    return this.view(id);
  }

  /**
   * A device of an open wave refused the rollout's release (a check failed on the device): the
   * rollout halts at once, nobody else is told to install it, and the engineers see why. Whatever
   * image the refusal names: a device told to install something else than the release, or whose
   * metadata did not verify, is as much a reason to stop as a release that fails its checks.
   */
  async haltOnRefusal(refusal: { deviceId: string; deviceClass: string; target: string | null; reason: string }): Promise<void> {
    const live = (await this.db.query<Row>(`select * from director_rollout where class = $1 and state = 'active'`, [refusal.deviceClass])).rows[0];
    if (!live || !live.waves.slice(0, live.open_waves).some((w) => w.includes(refusal.deviceId))) return;
    const halted = await this.db.query(`update director_rollout set state = 'halted' where id = $1 and state = 'active'`, [live.id]);
    if (halted.rowCount === 0) return; // halted meanwhile, by a person or another device
    const device = { device: refusal.deviceId };
    const reason = `device ${refusal.deviceId} refused it: ${refusal.reason}`;
    await this.db.query('insert into director_rollout_event (rollout_id, action, by_user, reason) values ($1, $2, $3, $4)', [
      live.id,
      'halted',
      `device:${refusal.deviceId}`,
      reason,
    ]);
    await this.audit({
      action: 'rollout.halt',
      outcome: 'success',
      who: device,
      resource: { type: 'Rollout', id: live.id },
      details: { target: live.target },
      reason,
    });
    await this.notify(`The rollout of ${live.target} was halted: ${reason}`);
  }

  async resume(who: Who, id: string, reason: string): Promise<RolloutView> {
    const r = await this.row(id);
    await this.requireRelease(who, r.class, 'rollout.resume');
    this.requireReason(reason);
    if (r.state !== 'halted') throw new DirectorRefused(409, `the rollout is ${r.state}`);
    await this.db.query(`update director_rollout set state = 'active' where id = $1`, [id]);
    await this.event(id, 'resumed', who, reason);
    await this.record(who, 'rollout.resume', id, { target: r.target }, reason);
    return this.view(id);
  }

  /** The release a device should run now by the class's rollout (its wave open, not halted), or undefined. */
  async assignedTo(device: { id: string; deviceClass: string }): Promise<{ target: string; sha256: string; rollout: string } | undefined> {
    const r = await this.db.query<Row>(`select * from director_rollout where class = $1 and state = 'active'`, [device.deviceClass]);
    const live = r.rows[0];
    if (!live || !live.waves.slice(0, live.open_waves).some((w) => w.includes(device.id))) return undefined;
    return { target: live.target, sha256: live.sha256, rollout: live.id };
  }

  async list(): Promise<RolloutView[]> {
    const r = await this.db.query<{ id: string }>('select id from director_rollout order by created_at desc limit 100');
    return Promise.all(r.rows.map((x) => this.view(x.id)));
  }

  async view(id: string): Promise<RolloutView> {
    const r = await this.row(id);
    const reports = new Map((await this.updates.devices.list({ ids: r.waves.flat() })).map((d) => [d.id, d.lastReport]));
    const events = await this.db.query<{ action: string; by_user: string; reason: string | null; at: Date }>(
      'select action, by_user, reason, at from director_rollout_event where rollout_id = $1 order by n',
      [id],
    );
    return {
      id: r.id,
      deviceClass: r.class,
      target: r.target,
      state: r.state,
      openWaves: r.open_waves,
      waves: r.waves.map((w) => ({
        devices: w.map((d) => ({ id: d, installed: reports.get(d)?.target === r.target && reports.get(d)?.sha256 === r.sha256 })),
      })),
      createdBy: r.created_by,
      createdAt: new Date(r.created_at).toISOString(),
      events: events.rows.map((e) => ({ action: e.action, by: e.by_user, reason: e.reason, at: new Date(e.at).toISOString() })),
    };
  }

  // ---- inside ----

  private async row(id: string): Promise<Row> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new DirectorRefused(404, 'no such rollout');
    const r = await this.db.query<Row>('select * from director_rollout where id = $1', [id]);
    if (!r.rows[0]) throw new DirectorRefused(404, 'no such rollout');
    return r.rows[0];
  }

  private requireReason(reason: string): void {
    if (reason.trim().length < REASON_MIN) throw new DirectorRefused(400, `say why (at least ${REASON_MIN} characters)`);
  }

  private async requireRelease(who: Who, deviceClass: string, action: string): Promise<void> {
    if (await this.mayRelease(who, deviceClass)) return;
    const reason = `only biomedical engineers assigned to ${deviceClass}, with their key delegated, may do this`;
    await this.audit({ action, outcome: 'denied', who, reason, resource: { type: 'DeviceClass', id: deviceClass } });
    throw new DirectorRefused(403, reason);
  }

  private async event(id: string, action: string, who: Who, reason?: string): Promise<void> {
    await this.db.query('insert into director_rollout_event (rollout_id, action, by_user, reason) values ($1, $2, $3, $4)', [
      id,
      action,
      who.username,
      reason?.trim() ?? null,
    ]);
  }

  private async record(who: Who, action: string, id: string, details: Record<string, string | number>, reason?: string): Promise<void> {
    await this.audit({ action, outcome: 'success', who, resource: { type: 'Rollout', id }, details, ...(reason ? { reason: reason.trim() } : {}) });
  }
}
