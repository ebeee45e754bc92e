/**
 * Who may release updates for which equipment (docs/updates.md, "Engineers and classes"). A
 * biomedical engineer registers their own public key (the private key stays with them); someone
 * else, an admin or security admin, assigns them device classes. The server's rule (`mayRelease`)
 * is the assignment AND the engineer's key in the class's published delegation: the second half is
 * what devices check themselves, so the server never lets through what a device would refuse, and a
 * server talked into letting someone through still cannot make a device install it.
 */
import type { Key } from '@tufjs/models';
import type { Database } from '../db/index.js';
import type { EquipmentAudit, Who } from '../shared/index.js';
import { parsePublicKey } from './keys.js';
import { checkClassName } from './proposals.js';
import { latestMetadata } from './store.js';
import { Metadata, MetadataKind } from '@tufjs/models';

/** A refusal of the release pipeline: `status` is the HTTP answer. */
export class ReleaseRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface DeviceClass {
  name: string;
  lifeCritical: boolean;
  /** Engineers assigned now, by username. */
  engineers: string[];
  /** Key ids the published delegation names (what devices trust), empty before the first. */
  delegatedKeys: string[];
  threshold: number;
}

/** How the registry learns about an account it is asked to assign (identity's describeAccount). */
export type AccountLookup = (username: string) => Promise<{ who: Who; active: boolean } | undefined>;

const ASSIGNERS = ['admin', 'security-admin'] as const;

export function isEngineer(who: Who): boolean {
  return !who.system && !who.client && who.roles.includes('biomedical-engineer');
}

function mayAssign(who: Who): boolean {
  return !!who.system || who.roles.some((r) => (ASSIGNERS as readonly string[]).includes(r));
}

export class Engineers {
  constructor(
    private readonly db: Database,
    private readonly audit: EquipmentAudit,
    private readonly lookup: AccountLookup,
  ) {}

  /** An engineer registers the public half of their own signing key (the `.pub` file keygen writes). */
  async registerKey(who: Who, publicKeyText: string): Promise<{ keyid: string }> {
    if (!isEngineer(who)) return this.refuse(who, 'engineer.register-key', 403, 'only a biomedical engineer registers a release signing key');
    let key: Key;
    try {
      key = parsePublicKey(publicKeyText, 'the key');
    } catch (err) {
      throw new ReleaseRefused(400, (err as Error).message);
    }
    const existing = await this.db.query<{ keyid: string }>('select keyid from updates_engineer_key where account_id = $1', [who.accountId]);
    if (existing.rows[0]) {
      if (existing.rows[0].keyid === key.keyID) return { keyid: key.keyID };
      // Replacing a key in place would hand the engineer's signing rights to whoever holds the session.
      return this.refuse(who, 'engineer.register-key', 409, 'you have a registered key already; an admin must end your assignments and a new account');
    }
    const taken = await this.db.query('select 1 from updates_engineer_key where keyid = $1', [key.keyID]);
    if (taken.rows.length > 0) return this.refuse(who, 'engineer.register-key', 409, 'this key is registered to another account');
    await this.db.query('insert into updates_engineer_key (account_id, username, keyid, public_hex) values ($1, $2, $3, $4)', [
      who.accountId,
      who.username,
      key.keyID,
      (key.keyVal as { public: string }).public,
    ]);
    await this.audit({ action: 'engineer.register-key', outcome: 'success', who, resource: { type: 'EngineerKey', id: key.keyID } });
    return { keyid: key.keyID };
  }

  async addClass(who: Who, name: string, lifeCritical: boolean): Promise<void> {
    if (!mayAssign(who)) return this.refuse(who, 'class.add', 403, 'device classes are set up by an admin or security admin');
    try {
      checkClassName(name);
    } catch (err) {
      throw new ReleaseRefused(400, (err as Error).message);
    }
    const r = await this.db.query('insert into updates_class (name, life_critical, created_by) values ($1, $2, $3) on conflict do nothing', [
      name,
      lifeCritical,
      who.username,
    ]);
    if (r.rowCount === 0) throw new ReleaseRefused(409, `device class ${name} exists already`);
    await this.audit({ action: 'class.add', outcome: 'success', who, resource: { type: 'DeviceClass', id: name }, details: { lifeCritical } });
  }

  async deviceClass(name: string): Promise<{ name: string; lifeCritical: boolean } | undefined> {
    const r = await this.db.query<{ name: string; life_critical: boolean }>('select name, life_critical from updates_class where name = $1', [name]);
    return r.rows[0] && { name: r.rows[0].name, lifeCritical: r.rows[0].life_critical };
  }

  async classes(): Promise<DeviceClass[]> {
    const r = await this.db.query<{ name: string; life_critical: boolean; engineers: string[] }>(
      `select c.name, c.life_critical,
              coalesce(array_agg(k.username order by k.username) filter (where k.username is not null), '{}') engineers
         from updates_class c
         left join updates_assignment a on a.class = c.name and a.ended_at is null
         left join updates_engineer_key k on k.account_id = a.account_id
        group by c.name order by c.name`,
    );
    const delegation = await this.delegation();
    return r.rows.map((c) => ({
      name: c.name,
      lifeCritical: c.life_critical,
      engineers: c.engineers,
      delegatedKeys: delegation.get(c.name)?.keyIDs ?? [],
      threshold: delegation.get(c.name)?.threshold ?? (c.life_critical ? 2 : 1),
    }));
  }

  /** Assigns an engineer (by username) to a class. Nobody assigns themselves. */
  async assign(who: Who, className: string, username: string): Promise<void> {
    const { accountId } = await this.assignable(who, 'class.assign', className, username);
    const r = await this.db.query(
      `insert into updates_assignment (class, account_id, assigned_by) values ($1, $2, $3) on conflict (class, account_id) where ended_at is null do nothing`,
      [className, accountId, who.username],
    );
    if (r.rowCount === 0) throw new ReleaseRefused(409, `${username} is assigned to ${className} already`);
    await this.audit({ action: 'class.assign', outcome: 'success', who, resource: { type: 'DeviceClass', id: className }, details: { engineer: username } });
  }

  /** Ends an assignment (kept, marked). The class's next delegation leaves the engineer's key out. */
  async unassign(who: Who, className: string, username: string): Promise<void> {
    if (!mayAssign(who)) return this.refuse(who, 'class.unassign', 403, 'assignments are ended by an admin or security admin');
    const r = await this.db.query(
      `update updates_assignment a set ended_by = $3, ended_at = now()
         from updates_engineer_key k
        where k.account_id = a.account_id and a.class = $1 and k.username = $2 and a.ended_at is null`,
      [className, username, who.username],
    );
    if (r.rowCount === 0) throw new ReleaseRefused(404, 'no such assignment');
    await this.audit({ action: 'class.unassign', outcome: 'success', who, resource: { type: 'DeviceClass', id: className }, details: { engineer: username } });
  }

  /** The assigned engineers' keys: what the class's next delegation should name. */
  async assignedKeys(className: string): Promise<Array<{ username: string; publicHex: string }>> {
    const r = await this.db.query<{ username: string; public_hex: string }>(
      `select k.username, k.public_hex from updates_assignment a join updates_engineer_key k on k.account_id = a.account_id
        where a.class = $1 and a.ended_at is null order by k.username`,
      [className],
    );
    return r.rows.map((x) => ({ username: x.username, publicHex: x.public_hex }));
  }

  /** The caller's registered key id, if any. */
  async keyOf(who: Who): Promise<string | undefined> {
    const r = await this.db.query<{ keyid: string }>('select keyid from updates_engineer_key where account_id = $1', [who.accountId]);
    return r.rows[0]?.keyid;
  }

  /**
   * May `who` stage, sign off, approve or roll out releases of this class? An engineer assigned to
   * it whose own key the published delegation names. Also what the director asks.
   */
  async mayRelease(who: Who, className: string): Promise<boolean> {
    if (!isEngineer(who)) return false;
    const assigned = await this.db.query(
      `select k.keyid from updates_assignment a join updates_engineer_key k on k.account_id = a.account_id
        where a.class = $1 and a.account_id = $2 and a.ended_at is null`,
      [className, who.accountId],
    );
    const keyid = (assigned.rows[0] as { keyid: string } | undefined)?.keyid;
    if (!keyid) return false;
    return (await this.delegation()).get(className)?.keyIDs.includes(keyid) ?? false;
  }

  /** Throws 403 (and records the refusal) unless `mayRelease`. */
  async requireRelease(who: Who, className: string, action: string): Promise<void> {
    if (!(await this.mayRelease(who, className)))
      await this.refuse(who, action, 403, `only biomedical engineers assigned to ${className}, with their key delegated, may do this`, className);
  }

  /** Records a refusal in the audit log and throws it. */
  async refuse(who: Who, action: string, status: 400 | 403 | 404 | 409, reason: string, className?: string): Promise<never> {
    await this.audit({ action, outcome: 'denied', who, reason, ...(className ? { resource: { type: 'DeviceClass', id: className } } : {}) });
    throw new ReleaseRefused(status, reason);
  }

  private async assignable(who: Who, action: string, className: string, username: string): Promise<{ accountId: string }> {
    if (!mayAssign(who)) return this.refuse(who, action, 403, 'engineers are assigned by an admin or security admin');
    if (!(await this.deviceClass(className))) throw new ReleaseRefused(404, 'no such device class');
    const account = await this.lookup(username);
    if (!account || !account.active) throw new ReleaseRefused(404, 'no such active account');
    if (account.who.accountId === who.accountId) return this.refuse(who, action, 403, 'nobody assigns themselves', className);
    if (!account.who.roles.includes('biomedical-engineer')) throw new ReleaseRefused(409, 'only biomedical engineers are assigned device classes');
    const key = await this.db.query('select 1 from updates_engineer_key where account_id = $1', [account.who.accountId]);
    if (key.rows.length === 0) throw new ReleaseRefused(409, 'the engineer has not registered a signing key yet');
    return { accountId: account.who.accountId };
  }

  /** The published top-level targets' delegations, by class. */
  private async delegation(): Promise<Map<string, { keyIDs: string[]; threshold: number }>> {
    const row = await latestMetadata(this.db, 'targets');
    const roles = row ? (Metadata.fromJSON(MetadataKind.Targets, JSON.parse(row.body.toString()) as never).signed.delegations?.roles ?? {}) : {};
    return new Map(Object.values(roles).map((r) => [r.name, { keyIDs: r.keyIDs, threshold: r.threshold }]));
  }
}
