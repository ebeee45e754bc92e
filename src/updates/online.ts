/**
 * The online roles of the image repository (docs/updates.md): snapshot and timestamp, signed by the
 * server without a person, with keys sealed under the general key. Which keys count is the root's
 * word: a root that names new ones (`rotate-root --new-online-keys`) makes the old ones useless.
 */
import { Key, Metadata, MetadataKind, MetaFile, Root, Snapshot, Timestamp } from '@tufjs/models';
import crypto from 'node:crypto';
import type { Database, Queryable } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { generateKey, signerFor, tufKey } from './keys.js';
import { expiresAfter, LIFETIME_MS } from './proposals.js';
import { insertMetadata, latestMetadata } from './store.js';

export class OnlineRoles {
  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly now: () => Date,
  ) {}

  /** A new snapshot (every published targets role) and timestamp, with the online keys. */
  async sign(tx: Queryable, force: boolean): Promise<boolean> {
    const rootRow = await latestMetadata(tx, 'root');
    const targetsRow = await latestMetadata(tx, 'targets');
    if (!rootRow || !targetsRow) return false; // nothing a device could use yet
    const now = this.now();
    const stale = async (role: string, lifetime: number) => {
      const row = await latestMetadata(tx, role);
      return !row || row.expiresAt.getTime() - now.getTime() < lifetime / 2;
    };
    const newSnapshot = force || (await stale('snapshot', LIFETIME_MS.snapshot));
    if (!newSnapshot && !(await stale('timestamp', LIFETIME_MS.timestamp))) return false;
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(rootRow.body.toString()) as never).signed;
    let snapshotRow = await latestMetadata(tx, 'snapshot');
    if (newSnapshot) {
      // Every targets role ever published, delegated still or not: a device refuses a snapshot that
      // drops a file an earlier one listed.
      const roles = await tx.query<{ role: string; version: number }>(
        `select role, max(version) as version from updates_metadata where role not in ('root', 'snapshot', 'timestamp') group by role`,
      );
      const meta: Record<string, MetaFile> = {};
      for (const r of roles.rows) meta[`${r.role}.json`] = new MetaFile({ version: r.version });
      const snapshot = new Metadata(
        new Snapshot({ version: (snapshotRow?.version ?? 0) + 1, specVersion: root.specVersion, expires: expiresAfter(now, LIFETIME_MS.snapshot), meta }),
      );
      snapshot.sign(await this.signer(tx, root, 'snapshot'));
      await insertMetadata(tx, 'snapshot', snapshot.signed.version, Buffer.from(JSON.stringify(snapshot.toJSON())), snapshot.signed.expires);
      snapshotRow = await latestMetadata(tx, 'snapshot');
    }
    const body = snapshotRow!.body;
    const timestampRow = await latestMetadata(tx, 'timestamp');
    const timestamp = new Metadata(
      new Timestamp({
        version: (timestampRow?.version ?? 0) + 1,
        specVersion: root.specVersion,
        expires: expiresAfter(now, LIFETIME_MS.timestamp),
        snapshotMeta: new MetaFile({ version: snapshotRow!.version, length: body.length, hashes: { sha256: sha256(body) } }),
      }),
    );
    timestamp.sign(await this.signer(tx, root, 'timestamp'));
    await insertMetadata(tx, 'timestamp', timestamp.signed.version, Buffer.from(JSON.stringify(timestamp.toJSON())), timestamp.signed.expires);
    return true;
  }

  /** A new key for an online role, sealed with the general key; the root that names it makes it count. */
  async newKey(role: 'snapshot' | 'timestamp'): Promise<Key> {
    const k = generateKey();
    const sealed = this.keyring.sealGeneral(k.privateDer, `updates:online:${k.keyid}`);
    await this.db.query('insert into updates_online_key (keyid, role, public_hex, sealed_private) values ($1, $2, $3, $4)', [
      k.keyid,
      role,
      k.publicHex,
      sealed,
    ]);
    return tufKey(k.publicHex);
  }

  private async signer(q: Queryable, root: Root, role: 'snapshot' | 'timestamp') {
    const ids = root.roles[role].keyIDs;
    const r = await q.query<{ keyid: string; sealed_private: Buffer }>('select keyid, sealed_private from updates_online_key where keyid = any($1)', [ids]);
    if (!r.rows[0]) throw new Error(`the ${role} key named by the root is not kept here`);
    return signerFor(this.keyring.openGeneral(Buffer.from(r.rows[0].sealed_private), `updates:online:${r.rows[0].keyid}`));
  }

  /** Online keys the published root no longer names are destroyed: replaced keys sign nothing again. */
  async forgetReplaced(tx: Queryable, root: Root): Promise<void> {
    await tx.query('delete from updates_online_key where not (keyid = any($1))', [[...root.roles.snapshot.keyIDs, ...root.roles.timestamp.keyIDs]]);
  }
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
