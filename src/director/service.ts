/**
 * The director (docs/director.md), in the spirit of Uptane's: a second repository, separately
 * keyed, that tells each device which image to install and when. A device installs only what the
 * director lists AND the image repository's engineers signed, identically (the device agent's full
 * verification): a stolen director key alone can point a device at nothing the engineers did not
 * release; a server that fakes a release in the image repository still needs the director's key.
 */
import type { Database } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { SYSTEM, type EquipmentAudit, type MaintenanceWindow } from '../shared/index.js';
import type { Clock, UpdatesService } from '../updates/index.js';
import { DeviceMetadata, instructionUntil, nothingToDo, type Instruction } from './deviceMetadata.js';
import { DirectorRoot } from './root.js';
import { Rollouts, type MayRelease } from './rollouts.js';
import { currentOrNextOccurrence } from './window.js';

/** Where a device's maintenance windows come from (the inventory); none known: nothing is instructed. */
export type WindowsOf = (deviceId: string) => Promise<MaintenanceWindow[]>;

export interface DirectorOptions {
  db: Database;
  keyring: Keyring;
  updates: UpdatesService;
  mayRelease: MayRelease;
  audit: EquipmentAudit;
  notify: (message: string) => Promise<void>;
  windowsOf: WindowsOf;
}

export class DirectorService {
  readonly root: DirectorRoot;
  readonly rollouts: Rollouts;
  private readonly metadata: DeviceMetadata;
  /** The server's clock (the window and expiries); tests give their own. */
  clock: Clock = { now: () => new Date() };
  windowsOf: WindowsOf;

  constructor(private readonly o: DirectorOptions) {
    this.windowsOf = o.windowsOf;
    this.root = new DirectorRoot(o.db, o.keyring, () => this.clock.now());
    this.metadata = new DeviceMetadata(o.db, this.root, () => this.clock.now());
    this.rollouts = new Rollouts(o.db, o.updates, o.mayRelease, o.audit, o.notify);
  }

  /**
   * What `deviceId` should be told now: the release of its class's rollout, if its wave is open and
   * its hardware is listed, for the current or next occurrence of its maintenance window.
   */
  async instructionFor(deviceId: string): Promise<Instruction | undefined> {
    const now = this.clock.now();
    const [device] = await this.o.updates.devices.list({ ids: [deviceId] });
    if (!device) return undefined;
    const assigned = await this.rollouts.assignedTo(device);
    if (!assigned) return nothingToDo(now);
    const released = await this.o.updates.releasedTarget(assigned.target);
    const hardware = Array.isArray(released?.custom.hardwareIds) ? (released.custom.hardwareIds as string[]) : [];
    if (!released || released.sha256 !== assigned.sha256 || !hardware.includes(device.hardwareId)) return nothingToDo(now);
    const window = currentOrNextOccurrence(await this.windowsOf(deviceId), now);
    if (!window) return nothingToDo(now);
    const notBefore = window.start.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return instructionUntil({ ...released, custom: { ...released.custom, deviceId, notBefore } }, window.end);
  }

  /** A device's metadata file, brought up to date first when the device starts a refresh (timestamp). */
  async file(deviceId: string, role: 'root' | 'timestamp' | 'snapshot' | 'targets', version?: number): Promise<Buffer | undefined> {
    if (role === 'root') return version === undefined ? undefined : this.root.version(version);
    if (role === 'timestamp') {
      if (!(await this.root.current())) return undefined;
      const want = await this.instructionFor(deviceId);
      if (!want) return undefined; // not a registered device: nothing is signed for it
      const r = await this.metadata.bringUpTo(deviceId, want);
      if (r.changed && want.target)
        await this.o.audit({
          action: 'director.instruct',
          outcome: 'success',
          who: SYSTEM,
          resource: { type: 'Device', id: deviceId },
          details: { target: want.target.path, notBefore: String(want.target.custom.notBefore), expires: want.expires },
        });
    }
    return this.metadata.file(deviceId, role, version);
  }
}
