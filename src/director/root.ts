/**
 * The director's root (docs/director.md, "Keys"): root keys held offline by people (at least two
 * must sign), and one online key for the director's targets, snapshot and timestamp, which must sign
 * for each device without a person. The holders use the image repository's tools (`carewall updates
 * keygen` and `updates sign`): the director proposes, they sign at their desks, the director
 * publishes at the threshold, checked as a device checks it (@tufjs/models' verifyDelegate).
 */
import { Key, Metadata, MetadataKind, Root, Signature } from '@tufjs/models';
import type { Database, Queryable } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { SPEC_VERSION, expiresAfter, generateKey, pendingIdOf, signerFor, tufKey, unsignedFile, type SignatureFile } from '../updates/index.js';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
const sealContext = (keyid: string) => `director:online:${keyid}`;

export class DirectorRoot {
  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly now: () => Date,
  ) {}

  /** The newest published root, parsed, or undefined before the first ceremony. */
  async current(q: Queryable = this.db): Promise<Metadata<Root> | undefined> {
    const r = await q.query<{ body: Buffer }>('select body from director_root order by version desc limit 1');
    return r.rows[0] && Metadata.fromJSON(MetadataKind.Root, JSON.parse(Buffer.from(r.rows[0].body).toString()) as never);
  }

  async version(version: number): Promise<Buffer | undefined> {
    const r = await this.db.query<{ body: Buffer }>('select body from director_root where version = $1', [version]);
    return r.rows[0] && Buffer.from(r.rows[0].body);
  }

  /**
   * Root N+1 (or 1) with these offline root keys; the online key is made on the first and kept
   * after, unless a new one is asked for (a suspected theft): once that root is published, every
   * device's files are signed again with the new key and the old one is destroyed.
   */
  async propose(rootKeys: Key[], threshold: number, opts: { newOnlineKey?: boolean } = {}): Promise<{ id: string; version: number; unsigned: string }> {
    if (threshold < 2) throw new Error("the director's root threshold must be at least 2");
    if (new Set(rootKeys.map((k) => k.keyID)).size !== rootKeys.length) throw new Error('the same root key is given twice');
    if (rootKeys.length < threshold) throw new Error(`a root threshold of ${threshold} needs at least that many root keys`);
    const open = await this.db.query('select 1 from director_root_pending where published_at is null and withdrawn_at is null');
    if (open.rows.length > 0) throw new Error('a director root awaits signatures; publish or withdraw it first (carewall director withdraw-root)');
    const current = await this.current();
    const online = current && !opts.newOnlineKey ? current.signed.keys[current.signed.roles.targets.keyIDs[0]] : await this.newOnlineKey();
    if (rootKeys.some((k) => k.keyID === online.keyID)) throw new Error('a root key cannot be the online key');
    const keys: Record<string, unknown> = {};
    for (const k of [...rootKeys, online]) keys[k.keyID] = k.toJSON();
    const onlineRole = { keyids: [online.keyID], threshold: 1 };
    const root = Root.fromJSON({
      _type: 'root',
      spec_version: SPEC_VERSION,
      version: (current?.signed.version ?? 0) + 1,
      expires: expiresAfter(this.now(), YEAR_MS),
      consistent_snapshot: true,
      keys,
      roles: { root: { keyids: rootKeys.map((k) => k.keyID), threshold }, targets: onlineRole, snapshot: onlineRole, timestamp: onlineRole },
    } as never);
    const id = pendingIdOf(root);
    await this.db.query('insert into director_root_pending (id, version, signed) values ($1, $2, $3)', [id, root.version, JSON.stringify(root.toJSON())]);
    return { id, version: root.version, unsigned: unsignedFile('root', root) };
  }

  /** One holder's signature (a file from `carewall updates sign`); publishes at the threshold. */
  async addSignature(s: SignatureFile): Promise<{ version: number; published: boolean }> {
    const p = await this.db.query<{ id: string; version: number; signed: string }>(
      'select id, version, signed from director_root_pending where id = $1 and published_at is null and withdrawn_at is null',
      [s.pending],
    );
    const pending = p.rows[0];
    if (!pending || s.role !== 'root') throw new Error("this signature is not of the director's open root proposal");
    const proposal = Root.fromJSON(JSON.parse(pending.signed) as never);
    const current = await this.current();
    const counted = new Set([...proposal.roles.root.keyIDs, ...(current?.signed.roles.root.keyIDs ?? [])]);
    const key = proposal.keys[s.keyid] ?? current?.signed.keys[s.keyid];
    if (!counted.has(s.keyid) || !key) throw new Error(`key ${s.keyid} is not a root key of the director`);
    try {
      key.verifySignature(new Metadata(proposal, { [s.keyid]: new Signature({ keyID: s.keyid, sig: s.sig }) }));
    } catch {
      throw new Error(`the signature of key ${s.keyid} does not verify over director root version ${pending.version}`);
    }
    await this.db.query('insert into director_root_signature (pending_id, keyid, sig) values ($1, $2, $3) on conflict do nothing', [
      pending.id,
      s.keyid,
      s.sig,
    ]);
    return this.db.transaction(async (tx) => {
      const sigs = await tx.query<{ keyid: string; sig: string }>('select keyid, sig from director_root_signature where pending_id = $1', [pending.id]);
      const md = new Metadata(proposal, Object.fromEntries(sigs.rows.map((x) => [x.keyid, new Signature({ keyID: x.keyid, sig: x.sig })])));
      try {
        md.verifyDelegate('root', md); // a threshold of its own root keys
        current?.verifyDelegate('root', md); // and of the root before it (TUF 5.3.4)
      } catch {
        return { version: pending.version, published: false };
      }
      await tx.query('insert into director_root (version, body, expires_at) values ($1, $2, $3)', [
        pending.version,
        Buffer.from(JSON.stringify(md.toJSON())),
        proposal.expires,
      ]);
      await tx.query('update director_root_pending set published_at = now() where id = $1', [pending.id]);
      // An online key the published root no longer names is destroyed: a replaced key signs nothing again.
      await tx.query('delete from director_online_key where keyid <> $1', [proposal.roles.targets.keyIDs[0]]);
      return { version: pending.version, published: true };
    });
  }

  async withdraw(): Promise<boolean> {
    const r = await this.db.query('update director_root_pending set withdrawn_at = now() where published_at is null and withdrawn_at is null');
    return (r.rowCount ?? 0) > 0;
  }

  /** Signs with the online key the current root names. */
  async onlineSigner(q: Queryable, root: Root): Promise<(data: Buffer) => Signature> {
    const keyid = root.roles.targets.keyIDs[0];
    const r = await q.query<{ sealed_private: Buffer }>('select sealed_private from director_online_key where keyid = $1', [keyid]);
    if (!r.rows[0]) throw new Error("the director's online key named by its root is not kept here");
    return signerFor(this.keyring.openGeneral(Buffer.from(r.rows[0].sealed_private), sealContext(keyid)));
  }

  private async newOnlineKey(): Promise<Key> {
    const k = generateKey();
    await this.db.query('insert into director_online_key (keyid, public_hex, sealed_private) values ($1, $2, $3)', [
      k.keyid,
      k.publicHex,
      this.keyring.sealGeneral(k.privateDer, sealContext(k.keyid)),
    ]);
    return tufKey(k.publicHex);
  }
}
