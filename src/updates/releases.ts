/**
 * The way a vendor's image becomes a release devices install (docs/updates.md, "Releasing over
 * the console"), each step by a biomedical engineer assigned to the class and recorded:
 *
 *   create (what it is) → image (vendor signature checked, kept in quarantine: stored, never
 *   served) → SBOM (CycloneDX) and the advisory check → test-lab sign-off → the class's next targets
 *   proposed → each engineer's own signature (made offline with `carewall updates sign`) → published
 *   at the class's threshold (two engineers for a life-critical class).
 *
 * The server keeps the order; the signatures are what devices check, so a step skipped here by a
 * fault or an attacker still leaves a release no device installs.
 */
import crypto from 'node:crypto';
import type { Database } from '../db/index.js';
import { vendorKeyId, vendorPublicKey, vendorSignatureHolds } from '../device/index.js';
import type { EquipmentAudit, Who } from '../shared/index.js';
import { Engineers, ReleaseRefused } from './engineers.js';
import { tufKey } from './keys.js';
import { parseSignatureFile } from './offline.js';
import { putBlobFromFile } from './store.js';
import type { UpdatesService } from './service.js';
import { checkSbom, type SbomComponent } from './sbom.js';
import { toCandidate, type AdvisoryCheck, type Candidate, type CandidateInput, type CandidateRow, type CandidateState } from './candidates.js';

export type { AdvisoryCheck, Candidate, CandidateInput, CandidateState, OpenAdvisory } from './candidates.js';

const NOTE_MIN = 10;
const READERS = ['biomedical-engineer', 'security-admin', 'admin', 'privacy-officer'] as const;

export class ReleasePipeline {
  constructor(
    private readonly db: Database,
    private readonly updates: UpdatesService,
    readonly engineers: Engineers,
    private readonly audit: EquipmentAudit,
    private readonly notify: (message: string) => Promise<void>,
    public advisoryCheck: AdvisoryCheck = async () => [],
  ) {}

  // ---- vendors ----

  /** An admin or security admin records a vendor's public key (PEM), as the vendor published it. */
  async addVendorKey(who: Who, vendor: string, publicPem: string): Promise<{ keyid: string }> {
    if (!who.system && !who.roles.some((r) => r === 'admin' || r === 'security-admin'))
      return this.engineers.refuse(who, 'vendor.add-key', 403, 'vendor keys are added by an admin or security admin');
    if (!/^[\p{L}\p{N}][\p{L}\p{N} .,&()+-]{0,99}$/u.test(vendor))
      throw new ReleaseRefused(400, 'the vendor name is 1 to 100 letters, digits, spaces and . , & ( ) + -');
    let keyid: string;
    try {
      vendorPublicKey(publicPem);
      keyid = vendorKeyId(publicPem);
    } catch (err) {
      throw new ReleaseRefused(400, `the vendor key: ${(err as Error).message}`);
    }
    const r = await this.db.query('insert into updates_vendor_key (keyid, vendor, public_pem, added_by) values ($1, $2, $3, $4) on conflict do nothing', [
      keyid,
      vendor,
      publicPem,
      who.username,
    ]);
    if (r.rowCount === 0) throw new ReleaseRefused(409, 'this vendor key is recorded already');
    await this.audit({ action: 'vendor.add-key', outcome: 'success', who, resource: { type: 'VendorKey', id: keyid }, details: { vendor } });
    return { keyid };
  }

  /**
   * The vendor's signature on an image staged from the data folder (`carewall updates stage`),
   * checked as the console's upload checks it; what the target carries so that devices check it again.
   */
  async vendorSignatureOf(keyid: string, signature: Buffer, file: string): Promise<{ name: string; keyid: string; signature: string }> {
    const key = await this.db.query<{ vendor: string; public_pem: string }>('select vendor, public_pem from updates_vendor_key where keyid = $1', [keyid]);
    if (!key.rows[0]) throw new ReleaseRefused(400, 'no vendor key with that id is recorded (carewall updates vendors, or the console)');
    if (!(await vendorSignatureHolds(file, signature, key.rows[0].public_pem)))
      throw new ReleaseRefused(400, 'the vendor signature does not verify over the image; nothing was kept');
    return { name: key.rows[0].vendor, keyid, signature: signature.toString('base64') };
  }

  async vendorKeys(): Promise<Array<{ keyid: string; vendor: string; addedBy: string; addedAt: string; publicPem: string }>> {
    const r = await this.db.query<{ keyid: string; vendor: string; added_by: string; added_at: Date; public_pem: string }>(
      'select keyid, vendor, added_by, added_at, public_pem from updates_vendor_key order by vendor, added_at',
    );
    return r.rows.map((k) => ({ keyid: k.keyid, vendor: k.vendor, addedBy: k.added_by, addedAt: new Date(k.added_at).toISOString(), publicPem: k.public_pem }));
  }

  // ---- the class's engineers, as devices will trust them ----

  /**
   * Proposes the top-level targets naming the class's assigned engineers' keys (threshold 2 for a
   * life-critical class); the targets key holders sign it offline. Assignments take effect on
   * devices, and in `mayRelease`, only once it is published.
   */
  async proposeDelegation(who: Who, className: string): Promise<{ id: string; unsigned: string; engineers: string[] }> {
    if (!who.system && !who.roles.some((r) => r === 'admin' || r === 'security-admin'))
      return this.engineers.refuse(who, 'class.delegate', 403, 'delegations are proposed by an admin or security admin', className);
    const cls = await this.engineers.deviceClass(className);
    if (!cls) throw new ReleaseRefused(404, 'no such device class');
    const assigned = await this.engineers.assignedKeys(className);
    let proposal;
    try {
      proposal = await this.updates.proposeDelegation({
        deviceClass: className,
        engineerKeys: assigned.map((a) => tufKey(a.publicHex)),
        lifeCritical: cls.lifeCritical,
      });
    } catch (err) {
      throw new ReleaseRefused(409, (err as Error).message);
    }
    const engineers = assigned.map((a) => a.username);
    await this.audit({
      action: 'class.delegate',
      outcome: 'success',
      who,
      resource: { type: 'DeviceClass', id: className },
      details: { engineers, proposal: proposal.id },
    });
    return { id: proposal.id, unsigned: proposal.unsigned, engineers };
  }

  // ---- the steps ----

  async create(who: Who, input: CandidateInput): Promise<Candidate> {
    await this.engineers.requireRelease(who, input.deviceClass, 'release.create');
    const vendorKey = await this.db.query<{ vendor: string }>('select vendor from updates_vendor_key where keyid = $1', [input.vendorKeyId]);
    if (!vendorKey.rows[0]) throw new ReleaseRefused(400, 'no vendor key with that id is recorded (an admin adds it)');
    const signature = Buffer.from(input.vendorSignature, 'base64');
    if (signature.length === 0 || signature.length > 1024 || signature.toString('base64') !== input.vendorSignature.replace(/\s/g, ''))
      throw new ReleaseRefused(400, 'the vendor signature is base64 of the detached signature file');
    const open = await this.db.query(`select 1 from updates_candidate where class = $1 and name = $2 and state not in ('rejected', 'withdrawn')`, [
      input.deviceClass,
      input.name,
    ]);
    if (open.rows.length > 0) throw new ReleaseRefused(409, 'a release of that name is on its way or published already');
    try {
      // Another release of the class may be awaiting approval: this one is proposed only at its sign-off.
      await this.updates.checkStage({ ...input }, { whileProposalOpen: true });
    } catch (err) {
      throw new ReleaseRefused(409, (err as Error).message);
    }
    const id = crypto.randomUUID();
    await this.db.query(
      `insert into updates_candidate (id, class, name, image_version, hardware_ids, release_counter, min_upgrade_from, vendor_keyid, vendor_signature, state, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'awaiting-image', $10)`,
      [
        id,
        input.deviceClass,
        input.name,
        input.version,
        input.hardwareIds,
        input.releaseCounter,
        input.minUpgradeFrom,
        input.vendorKeyId,
        signature.toString('base64'),
        who.username,
      ],
    );
    await this.record(who, 'release.create', id, { class: input.deviceClass, name: input.name, version: input.version, releaseCounter: input.releaseCounter });
    return this.get(who, id);
  }

  /** The image, from a file the route streamed the upload into: kept only when the vendor's signature holds. */
  async putImage(who: Who, id: string, file: string): Promise<Candidate> {
    const c = await this.step(who, id, 'release.image', ['awaiting-image']);
    const key = await this.db.query<{ public_pem: string }>('select public_pem from updates_vendor_key where keyid = $1', [c.vendor_keyid]);
    if (!(await vendorSignatureHolds(file, Buffer.from(c.vendor_signature, 'base64'), key.rows[0].public_pem))) {
      // A failed vendor signature is a refusal of this candidate, kept with the reason; its bytes are not.
      await this.close(who, id, 'rejected', 'the vendor signature does not verify over the uploaded image', 'release.image');
      throw new ReleaseRefused(400, 'the vendor signature does not verify over the uploaded image; nothing was kept');
    }
    const { sha256, length } = await putBlobFromFile(this.db, file);
    await this.db.query(`update updates_candidate set sha256 = $2, length = $3, state = 'quarantined' where id = $1 and state = 'awaiting-image'`, [
      id,
      sha256,
      length,
    ]);
    await this.record(who, 'release.image', id, { sha256, length });
    return this.get(who, id);
  }

  /** The model's software bill of materials for this image; the advisory check runs on it. */
  async putSbom(who: Who, id: string, sbom: unknown): Promise<Candidate> {
    const c = await this.step(who, id, 'release.sbom', ['quarantined']);
    let components: SbomComponent[];
    try {
      components = checkSbom(sbom);
    } catch (err) {
      throw new ReleaseRefused(400, (err as Error).message);
    }
    const advisories = await this.advisoryCheck({ deviceClass: c.class, vendor: c.vendor, version: c.image_version, components });
    await this.db.query('update updates_candidate set sbom = $2, advisories = $3 where id = $1', [id, JSON.stringify(sbom), JSON.stringify(advisories)]);
    await this.record(who, 'release.sbom', id, { components: components.length, openAdvisories: advisories.map((a) => a.id) });
    return this.get(who, id);
  }

  /**
   * The test lab's result. Passed: the class's next targets are proposed for the engineers'
   * signatures. Open advisories must be accepted explicitly, with the note saying why.
   */
  async labSignoff(who: Who, id: string, s: { passed: boolean; note: string; acceptAdvisories?: boolean }): Promise<Candidate> {
    const c = await this.step(who, id, 'release.lab-signoff', ['quarantined']);
    const note = s.note.trim();
    if (note.length < NOTE_MIN) throw new ReleaseRefused(400, `say what the test lab found (at least ${NOTE_MIN} characters)`);
    if (!c.sbom) throw new ReleaseRefused(409, "attach the image's SBOM first: the advisory check runs on it");
    if (!s.passed) {
      await this.db.query('update updates_candidate set lab_by = $2, lab_at = now(), lab_note = $3 where id = $1', [id, who.username, note]);
      await this.close(who, id, 'rejected', 'failed in the test lab', 'release.lab-signoff');
      return this.get(who, id);
    }
    if ((c.advisories ?? []).length > 0 && !s.acceptAdvisories)
      throw new ReleaseRefused(409, `open advisories hit this release (${c.advisories!.map((a) => a.id).join(', ')}): sign off accepting them, saying why`);
    let proposalId: string;
    try {
      proposalId = (
        await this.updates.stageStored({
          deviceClass: c.class,
          name: c.name,
          sha256: c.sha256!,
          length: Number(c.length),
          hardwareIds: c.hardware_ids,
          releaseCounter: c.release_counter,
          minUpgradeFrom: c.min_upgrade_from,
          version: c.image_version,
          vendor: { name: c.vendor, keyid: c.vendor_keyid, signature: c.vendor_signature },
        })
      ).id;
    } catch (err) {
      throw new ReleaseRefused(409, (err as Error).message);
    }
    await this.db.query(
      `update updates_candidate set lab_by = $2, lab_at = now(), lab_note = $3, proposal_id = $4, state = 'awaiting-approval' where id = $1 and state = 'quarantined'`,
      [id, who.username, note, proposalId],
    );
    await this.record(who, 'release.lab-signoff', id, { passed: true, acceptedAdvisories: (c.advisories ?? []).map((a) => a.id) });
    return this.get(who, id);
  }

  /** The unsigned targets file each engineer signs with their own key (`carewall updates sign`). */
  async unsigned(who: Who, id: string): Promise<string> {
    const c = await this.step(who, id, 'release.read-unsigned', ['awaiting-approval']);
    return this.updates.unsignedOf(c.proposal_id!);
  }

  /** One engineer's approval: their signature file, of their own registered key. */
  async approve(who: Who, id: string, signatureText: string): Promise<Candidate> {
    const c = await this.step(who, id, 'release.approve', ['awaiting-approval']);
    let sig;
    try {
      sig = parseSignatureFile(signatureText, 'the signature');
    } catch (err) {
      throw new ReleaseRefused(400, (err as Error).message);
    }
    if (sig.pending !== c.proposal_id) throw new ReleaseRefused(400, 'this signature is of another proposal: sign the file this release hands out');
    const own = await this.engineers.keyOf(who);
    if (sig.keyid !== own) return this.engineers.refuse(who, 'release.approve', 403, 'approve with a signature of your own registered key', c.class);
    let result;
    try {
      result = await this.updates.addSignature(sig);
    } catch (err) {
      return this.engineers.refuse(who, 'release.approve', 403, (err as Error).message, c.class);
    }
    if (result.published) await this.db.query(`update updates_candidate set state = 'published' where id = $1`, [id]);
    const after = await this.get(who, id);
    const count = `${after.approvals?.signedBy.length ?? 0} of ${after.approvals?.needed ?? 0}`;
    await this.record(who, 'release.approve', id, { path: after.path, signatures: count, published: result.published });
    await this.notify(
      `Equipment release ${after.path} (version ${after.version}) approved by ${who.username} (${count} signatures)${result.published ? '; published' : ''}.`,
    );
    return after;
  }

  async withdraw(who: Who, id: string, reason: string): Promise<Candidate> {
    const c = await this.step(who, id, 'release.withdraw', ['awaiting-image', 'quarantined', 'awaiting-approval']);
    if (reason.trim().length < NOTE_MIN) throw new ReleaseRefused(400, `say why (at least ${NOTE_MIN} characters)`);
    if (c.proposal_id) await this.updates.withdraw(c.proposal_id).catch(() => undefined); // published meanwhile: the state check below tells
    await this.close(who, id, 'withdrawn', reason.trim(), 'release.withdraw');
    return this.get(who, id);
  }

  // ---- reading ----

  async list(who: Who): Promise<Candidate[]> {
    this.requireReader(who);
    const r = await this.db.query<{ id: string }>('select id from updates_candidate order by created_at desc limit 500');
    return Promise.all(r.rows.map((x) => this.get(who, x.id)));
  }

  async get(who: Who, id: string): Promise<Candidate> {
    this.requireReader(who);
    const c = await this.row(id);
    if (!c) throw new ReleaseRefused(404, 'no such release');
    let approvals: Candidate['approvals'] = null;
    if (c.proposal_id) {
      const signed = await this.db.query<{ username: string | null; keyid: string }>(
        `select k.username, s.keyid from updates_signature s left join updates_engineer_key k on k.keyid = s.keyid where s.pending_id = $1 order by s.added_at`,
        [c.proposal_id],
      );
      const cls = (await this.engineers.classes()).find((x) => x.name === c.class);
      approvals = { signedBy: signed.rows.map((s) => s.username ?? `key ${s.keyid.slice(0, 12)}`), needed: cls?.threshold ?? 1 };
    }
    return toCandidate(c, approvals);
  }

  // ---- inside ----

  private requireReader(who: Who): void {
    if (!who.system && !who.roles.some((r) => (READERS as readonly string[]).includes(r)))
      throw new ReleaseRefused(403, 'releases are shown to engineers and officers');
  }

  private async row(id: string): Promise<CandidateRow | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const r = await this.db.query<CandidateRow>(
      `select c.*, v.vendor from updates_candidate c join updates_vendor_key v on v.keyid = c.vendor_keyid where c.id = $1`,
      [id],
    );
    return r.rows[0];
  }

  /** The candidate, when the caller may act on its class and it is in one of `states`. */
  private async step(who: Who, id: string, action: string, states: CandidateState[]): Promise<CandidateRow> {
    const c = await this.row(id);
    if (!c) throw new ReleaseRefused(404, 'no such release');
    await this.engineers.requireRelease(who, c.class, action);
    if (!states.includes(c.state)) throw new ReleaseRefused(409, `the release is ${c.state}; this step is for a release ${states.join(' or ')}`);
    return c;
  }

  private async close(who: Who, id: string, state: 'rejected' | 'withdrawn', reason: string, action: string): Promise<void> {
    await this.db.query('update updates_candidate set state = $2, closed_reason = $3, closed_at = now() where id = $1', [id, state, reason]);
    await this.audit({ action, outcome: state === 'rejected' ? 'failure' : 'success', who, resource: { type: 'Release', id }, reason });
  }

  private async record(who: Who, action: string, id: string, details: Record<string, string | number | boolean | string[]>): Promise<void> {
    await this.audit({ action, outcome: 'success', who, resource: { type: 'Release', id }, details });
  }
}
