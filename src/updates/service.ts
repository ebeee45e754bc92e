/**
 * The TUF image repository (docs/updates.md). The server prepares metadata and keeps it; it signs
 * only what the online roles sign (snapshot, timestamp). Root, top-level targets and each device
 * class's targets are published only once the offline keys' signatures, added one by one, reach
 * the threshold that the trusted metadata sets: the same check a device makes.
 */
import { Key, Metadata, MetadataKind, Root, Signature, Targets } from '@tufjs/models';
import type { Database, Queryable } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import type { Logger } from '../log.js';
import { DeviceRegistry } from './devices.js';
import { OnlineRoles } from './online.js';
import { pendingIdOf, type SignatureFile } from './offline.js';
import {
  buildDelegation,
  buildRelease,
  buildRoot,
  checkClassName,
  checkRelease,
  expiresAfter,
  LIFETIME_MS,
  unsignedFile,
  type DelegationPlan,
  type ReleasePlan,
} from './proposals.js';
import { insertMetadata, latestMetadata, metadataVersion, putBlobFromFile, releasedBlob } from './store.js';

/** Serialises publications across processes (one PostgreSQL, several Carewalls). */
const PUBLISH_LOCK = 7_243_025;
/** The server looks at the online roles this often and re-signs those past half their lifetime. */
const REFRESH_EVERY_MS = 60 * 60 * 1000;

export interface Clock {
  now(): Date;
}

export interface Proposal {
  id: string;
  role: string;
  version: number;
  /** The unsigned metadata file for the key holders. */
  unsigned: string;
}

export interface SignatureResult {
  role: string;
  version: number;
  signedBy: string[];
  published: boolean;
}

export interface UpdatesStatus {
  published: Array<{ role: string; version: number; expires: string }>;
  pending: Array<{ id: string; role: string; version: number; signedBy: string[] }>;
}

const md = {
  root: (body: Buffer | string) => Metadata.fromJSON(MetadataKind.Root, JSON.parse(body.toString()) as never),
  targets: (body: Buffer | string) => Metadata.fromJSON(MetadataKind.Targets, JSON.parse(body.toString()) as never),
};

export class UpdatesService {
  private timer?: NodeJS.Timeout;
  /** Registered devices and their signed manifests (devices.ts). */
  readonly devices: DeviceRegistry;
  /** Snapshot and timestamp, signed by the server (online.ts). */
  private readonly online: OnlineRoles;

  /** `clock` signs expiries; tests give their own to move time without waiting for it. */
  constructor(
    private readonly db: Database,
    keyring: Keyring,
    private readonly log: Logger,
    public clock: Clock = { now: () => new Date() },
  ) {
    this.devices = new DeviceRegistry(db, () => this.clock.now());
    this.online = new OnlineRoles(db, keyring, () => this.clock.now());
  }

  // ---- reading (the HTTP routes, `updates root`) ----

  async metadata(role: string, version: number): Promise<Buffer | undefined> {
    return metadataVersion(this.db, role, version);
  }

  async timestamp(): Promise<Buffer | undefined> {
    return (await latestMetadata(this.db, 'timestamp'))?.body;
  }

  /** The current root metadata: what a device is provisioned with. */
  async root(): Promise<string> {
    const root = await latestMetadata(this.db, 'root');
    if (!root) throw new Error("the update repository has no root yet: run 'carewall updates init-root' and sign it");
    return root.body.toString();
  }

  /** A target as the class's newest published metadata lists it (what the director copies), or undefined. */
  async releasedTarget(path: string): Promise<{ path: string; length: number; sha256: string; custom: Record<string, unknown> } | undefined> {
    const cls = path.split('.')[0];
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(cls) || ['root', 'targets', 'snapshot', 'timestamp'].includes(cls)) return undefined;
    const t = (await this.current(cls, md.targets))?.signed.targets[path];
    return t && { path: t.path, length: t.length, sha256: t.hashes.sha256, custom: t.custom };
  }

  target(path: string, sha256: string) {
    return releasedBlob(this.db, path, sha256);
  }

  // ---- proposals (each becomes metadata only with its holders' signatures) ----

  /** Root v1 (with new online keys) or the next root: the rotation ceremony (TUF 5.3.4). */
  async proposeRoot(keys: {
    rootKeys: Key[];
    rootThreshold: number;
    targetsKeys: Key[];
    targetsThreshold: number;
    newOnlineKeys?: boolean;
  }): Promise<Proposal> {
    await this.requireNoOpenProposal('root'); // before new online keys are made for nothing
    const current = await this.current('root', md.root);
    let snapshotKey: Key;
    let timestampKey: Key;
    // New online keys after a suspected theft: once this root is published, devices that follow it
    // take no snapshot or timestamp signed by the old ones (TUF 5.3.11 discards what they signed).
    if (current && !keys.newOnlineKeys) {
      const onlineKey = (role: string) => current.signed.keys[current.signed.roles[role].keyIDs[0]];
      [snapshotKey, timestampKey] = [onlineKey('snapshot'), onlineKey('timestamp')];
    } else [snapshotKey, timestampKey] = [await this.online.newKey('snapshot'), await this.online.newKey('timestamp')];
    const root = buildRoot({
      ...keys,
      version: (current?.signed.version ?? 0) + 1,
      expires: expiresAfter(this.clock.now(), LIFETIME_MS.root),
      snapshotKey,
      timestampKey,
    });
    return this.propose('root', root);
  }

  /** The next top-level targets, delegating a device class to its engineers' keys. */
  async proposeDelegation(p: Omit<DelegationPlan, 'expires'>): Promise<Proposal> {
    await this.requireRoot();
    const current = await this.current('targets', md.targets);
    return this.propose('targets', buildDelegation(current?.signed, { ...p, expires: expiresAfter(this.clock.now(), LIFETIME_MS.targets) }));
  }

  /** Keeps the image and proposes the class's next targets with it: the engineers' release. */
  async stage(p: Omit<ReleasePlan, 'sha256' | 'length' | 'expires'> & { file: string }): Promise<Proposal> {
    await this.checkStage(p);
    const { sha256, length } = await putBlobFromFile(this.db, p.file);
    return this.stageStored({ ...p, sha256, length });
  }

  /** Proposes the class's next targets with an image kept already (the release pipeline's quarantine). */
  async stageStored(p: Omit<ReleasePlan, 'expires'>): Promise<Proposal> {
    const current = await this.checkStage(p);
    const next = buildRelease(current, { ...p, expires: expiresAfter(this.clock.now(), LIFETIME_MS.targets) });
    return this.propose(p.deviceClass, next);
  }

  /** Refuses a release the class could not publish, before anything is kept; the class's current targets. */
  async checkStage(p: Omit<ReleasePlan, 'sha256' | 'length' | 'expires'>, opts: { whileProposalOpen?: boolean } = {}): Promise<Targets | undefined> {
    checkClassName(p.deviceClass);
    const delegations = (await this.current('targets', md.targets))?.signed.delegations?.roles ?? {};
    if (!delegations[p.deviceClass])
      throw new Error(`no engineers are assigned device class '${p.deviceClass}' (carewall updates delegate, signed by the targets key)`);
    const current = (await this.current(p.deviceClass, md.targets))?.signed;
    checkRelease(current, p); // before the image is kept: bad input changes nothing
    if (!opts.whileProposalOpen) await this.requireNoOpenProposal(p.deviceClass);
    return current;
  }

  /** The unsigned file of an open proposal (to hand to its signers again). */
  async unsignedOf(id: string): Promise<string> {
    const p = await this.openProposal(id);
    return unsignedFile(p.role, this.signable(p.role, p.signed, {}).signed);
  }

  async withdraw(id: string): Promise<void> {
    const r = await this.db.query('update updates_pending set withdrawn_at = now() where id = $1 and published_at is null and withdrawn_at is null', [id]);
    if (r.rowCount === 0) throw new Error(`no open proposal ${id}`);
  }

  async status(): Promise<UpdatesStatus> {
    const published = await this.db.query<{ role: string; version: number; expires_at: Date }>(
      `select distinct on (role) role, version, expires_at from updates_metadata order by role, version desc`,
    );
    const pending = await this.db.query<{ id: string; role: string; version: number; keyids: string[] }>(
      `select p.id, p.role, p.version, coalesce(array_agg(s.keyid order by s.keyid) filter (where s.keyid is not null), '{}') keyids
         from updates_pending p left join updates_signature s on s.pending_id = p.id
        where p.published_at is null and p.withdrawn_at is null group by p.id order by p.created_at`,
    );
    return {
      published: published.rows.map((r) => ({ role: r.role, version: r.version, expires: new Date(r.expires_at).toISOString() })),
      pending: pending.rows.map((r) => ({ id: r.id, role: r.role, version: r.version, signedBy: r.keyids })),
    };
  }

  // ---- signatures and publication ----

  /** Adds one holder's signature; publishes the proposal once its threshold verifies. */
  async addSignature(s: SignatureFile): Promise<SignatureResult> {
    const p = await this.openProposal(s.pending);
    const signable = this.signable(p.role, p.signed, { [s.keyid]: new Signature({ keyID: s.keyid, sig: s.sig }) });
    const key = (await this.keysThatCount(p.role, signable)).get(s.keyid);
    if (!key) throw new Error(`key ${s.keyid} is not one of the keys that may sign ${p.role} version ${p.version}`);
    try {
      key.verifySignature(signable);
    } catch {
      throw new Error(`the signature of key ${s.keyid} does not verify over ${p.role} version ${p.version}`);
    }
    const existing = await this.db.query<{ sig: string }>('select sig from updates_signature where pending_id = $1 and keyid = $2', [p.id, s.keyid]);
    if (existing.rows[0] && existing.rows[0].sig !== s.sig) throw new Error(`key ${s.keyid} has already signed this proposal`);
    if (!existing.rows[0]) await this.db.query('insert into updates_signature (pending_id, keyid, sig) values ($1, $2, $3)', [p.id, s.keyid, s.sig]);
    const published = await this.publishIfSigned(p.id);
    const signedBy = (await this.status()).pending.find((x) => x.id === p.id)?.signedBy;
    return { role: p.role, version: p.version, signedBy: signedBy ?? [], published };
  }

  /** Signs a new snapshot and timestamp when theirs are past half their lifetime (or when `force`). */
  async refresh(force = false): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      return this.online.sign(tx, force);
    });
  }

  /** The server's timer for the online roles (docs/updates.md: the timestamp lives one day). */
  start(): void {
    this.timer = setInterval(() => {
      this.refresh().catch((err: Error) => this.log.error({ err: err.message }, 'updates: online metadata not refreshed'));
    }, REFRESH_EVERY_MS);
    this.timer.unref();
    this.refresh().catch((err: Error) => this.log.error({ err: err.message }, 'updates: online metadata not refreshed'));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  // ---- inside ----

  private async current<T extends Root | Targets>(role: string, parse: (b: Buffer) => Metadata<T>): Promise<Metadata<T> | undefined> {
    const row = await latestMetadata(this.db, role);
    return row && parse(row.body);
  }

  private async requireRoot(): Promise<Metadata<Root>> {
    const root = await this.current('root', md.root);
    if (!root) throw new Error("the update repository has no root yet: run 'carewall updates init-root' and sign it");
    return root;
  }

  private async requireNoOpenProposal(role: string): Promise<void> {
    const open = await this.db.query<{ id: string; version: number }>(
      'select id, version from updates_pending where role = $1 and published_at is null and withdrawn_at is null',
      [role],
    );
    if (open.rows[0])
      throw new Error(
        `${role} version ${open.rows[0].version} (${open.rows[0].id}) awaits signatures; publish or withdraw it first (carewall updates withdraw)`,
      );
  }

  private async propose(role: string, signed: Root | Targets): Promise<Proposal> {
    await this.requireNoOpenProposal(role);
    const id = pendingIdOf(signed);
    await this.db.query('insert into updates_pending (id, role, version, signed) values ($1, $2, $3, $4)', [
      id,
      role,
      signed.version,
      JSON.stringify(signed.toJSON()),
    ]);
    return { id, role, version: signed.version, unsigned: unsignedFile(role, signed) };
  }

  private async openProposal(id: string) {
    const r = await this.db.query<{ id: string; role: string; version: number; signed: string }>(
      'select id, role, version, signed from updates_pending where id = $1 and published_at is null and withdrawn_at is null',
      [id],
    );
    if (!r.rows[0]) throw new Error(`no open proposal ${id} (published, withdrawn, or never made here)`);
    return r.rows[0];
  }

  private signable(role: string, signed: string, signatures: Record<string, Signature>): Metadata<Root> | Metadata<Targets> {
    const json = JSON.parse(signed);
    return role === 'root' ? new Metadata(Root.fromJSON(json), signatures) : new Metadata(Targets.fromJSON(json), signatures);
  }

  /** Who may sign a proposal of `role`: what the trusted metadata above it (and a new root itself) says. */
  private async keysThatCount(role: string, proposal: Metadata<Root> | Metadata<Targets>, q: Queryable = this.db): Promise<Map<string, Key>> {
    const keys = new Map<string, Key>();
    const add = (ids: string[], from: Record<string, Key>) => ids.forEach((id) => from[id] && keys.set(id, from[id]));
    const rootRow = await latestMetadata(q, 'root');
    const root = rootRow && md.root(rootRow.body).signed;
    if (role === 'root') {
      const next = proposal.signed as Root;
      add(next.roles.root.keyIDs, next.keys);
      if (root) add(root.roles.root.keyIDs, root.keys);
    } else if (role === 'targets') {
      if (root) add(root.roles.targets.keyIDs, root.keys);
    } else {
      const targetsRow = await latestMetadata(q, 'targets');
      const delegations = targetsRow && md.targets(targetsRow.body).signed.delegations;
      const delegated = delegations?.roles?.[role];
      if (delegated && delegations) add(delegated.keyIDs, delegations.keys);
    }
    return keys;
  }

  private async publishIfSigned(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      const r = await tx.query<{ role: string; version: number; signed: string }>(
        'select role, version, signed from updates_pending where id = $1 and published_at is null and withdrawn_at is null',
        [id],
      );
      const p = r.rows[0];
      if (!p) return false;
      const sigs = await tx.query<{ keyid: string; sig: string }>('select keyid, sig from updates_signature where pending_id = $1', [id]);
      const signatures = Object.fromEntries(sigs.rows.map((s) => [s.keyid, new Signature({ keyID: s.keyid, sig: s.sig })]));
      const proposal = this.signable(p.role, p.signed, signatures);
      // The device's own checks (@tufjs/models' verifyDelegate), against the metadata trusted now.
      try {
        const rootRow = await latestMetadata(tx, 'root');
        const root = rootRow && md.root(rootRow.body);
        if (p.role === 'root') {
          (proposal as Metadata<Root>).verifyDelegate('root', proposal);
          root?.verifyDelegate('root', proposal);
        } else if (p.role === 'targets') {
          if (!root) return false;
          root.verifyDelegate('targets', proposal);
        } else {
          const targetsRow = await latestMetadata(tx, 'targets');
          if (!targetsRow) return false;
          md.targets(targetsRow.body).verifyDelegate(p.role, proposal);
        }
      } catch {
        return false; // below the threshold: it waits for more signatures
      }
      const latest = await latestMetadata(tx, p.role);
      if ((latest?.version ?? 0) + 1 !== p.version)
        throw new Error(`${p.role} version ${latest?.version} is published already; this proposal (version ${p.version}) is stale: withdraw it`);
      await insertMetadata(tx, p.role, p.version, Buffer.from(JSON.stringify(proposal.toJSON())), proposal.signed.expires);
      if (p.role === 'root') await this.online.forgetReplaced(tx, proposal.signed as Root);
      await tx.query('update updates_pending set published_at = now() where id = $1', [id]);
      if (p.role !== 'root' && p.role !== 'targets') {
        for (const t of Object.values((proposal.signed as Targets).targets))
          await tx.query('insert into updates_release (path, sha256, role, version) values ($1, $2, $3, $4) on conflict do nothing', [
            t.path,
            t.hashes.sha256,
            p.role,
            p.version,
          ]);
      }
      await this.online.sign(tx, true);
      return true;
    });
  }
}
