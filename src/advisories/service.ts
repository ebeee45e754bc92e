/**
 * Security advisories for the clinic's equipment (issue 25, item 6; docs/advisories.md): CSAF 2.0
 * documents imported and validated, matched to the inventory (devices and their models' SBOMs),
 * each match's VEX status per device (from the advisory, an engineer's statement, or the device
 * reporting the release that fixes it), uncertain matches confirmed or rejected by an engineer.
 * Matches are computed, not stored: they follow the inventory and the devices' reports as they are.
 */
import type { Database } from '../db/index.js';
import { FhirError, type EquipmentAudit, type Who } from '../shared/index.js';
import { InvalidAdvisory, highest, readAdvisory, validateCsaf, type Advisory, type VexStatus } from './csaf.js';
import { ProductIndex, productKey, type Certainty, type MatchItem } from './match.js';
import { compareVersions } from './versions.js';

export interface InventoryItem extends MatchItem {
  lifeCritical: boolean;
  reportedTarget?: string | null;
}

export type InventorySource = () => Promise<InventoryItem[]>;

export interface DeviceAdvisory {
  advisory: string;
  title: string;
  vulnerability: string;
  vulnerabilityTitle: string;
  severity: string | null;
  certainty: Certainty;
  decision: 'confirmed' | 'rejected' | null;
  via: string;
  productId: string;
  status: VexStatus;
  /** Where the status comes from: the advisory, an engineer, or the device running a fixing release. */
  statusFrom: 'advisory' | 'engineer' | 'fixing-release';
  justification: string | null;
  fixedBy: string[];
  fixes: string[];
}

const VEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'vulnerable_code_not_in_execute_path',
  'inline_mitigations_already_exist',
];
const NOTE_MIN = 10;

export class AdvisoryService {
  private cache?: { stamp: string; advisories: Map<string, Advisory>; index: ProductIndex };

  constructor(
    private readonly db: Database,
    private readonly inventory: InventorySource,
    private readonly audit: EquipmentAudit,
    private readonly notify: (message: string) => Promise<void>,
  ) {}

  /** Imports one CSAF document (a new advisory, or a newer revision of one). */
  async import(who: Who, doc: unknown): Promise<{ id: string; version: string; devices: number }> {
    await this.requireEngineer(who, 'advisory.import');
    try {
      await validateCsaf(doc);
    } catch (err) {
      if (err instanceof InvalidAdvisory) throw new FhirError(400, 'invalid', err.message);
      throw err;
    }
    const a = readAdvisory(doc as Record<string, never>);
    // Compared and inserted under a lock on the advisory's id: two imports of one revision at once
    // (two engineers, a retried upload) would otherwise both pass the comparison, and the second
    // insert fail on the primary key as a server error instead of the conflict it is.
    await this.db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('carewall.advisory:' || $1))`, [a.id]);
      const known = await tx.query<{ version: string }>('select version from advisories_document where id = $1', [a.id]);
      for (const k of known.rows) {
        const c = compareVersions(a.version, k.version) ?? (a.version === k.version ? 0 : undefined);
        if (c === undefined || c <= 0)
          throw new FhirError(409, 'conflict', 'this advisory is imported already in this or a later revision; nothing was changed');
      }
      await tx.query('insert into advisories_document (id, version, title, severity, document, imported_by) values ($1, $2, $3, $4, $5, $6)', [
        a.id,
        a.version,
        a.title,
        a.severity ?? null,
        JSON.stringify(doc),
        who.username,
      ]);
    });
    this.cache = undefined;
    const items = await this.inventory();
    const hits = new ProductIndex([a]);
    const devices = items.filter((i) => hits.matches(i).length > 0);
    await this.audit({
      action: 'advisory.import',
      outcome: 'success',
      who,
      resource: { type: 'Advisory', id: a.id },
      details: { version: a.version, devices: devices.length },
    });
    const critical = devices.filter((d) => d.lifeCritical);
    if (critical.length > 0)
      await this.notify(
        `Security advisory ${a.id} (${a.severity ?? 'severity not given'}) may affect ${critical.length} life-critical device(s): ${critical.map((d) => d.deviceId).join(', ')}.`,
      );
    return { id: a.id, version: a.version, devices: devices.length };
  }

  async list(who: Who): Promise<Array<{ id: string; version: string; title: string; severity: string | null; vulnerabilities: number; devices: number }>> {
    await this.requireReader(who, 'advisory.list');
    const { advisories, index } = await this.current();
    const items = await this.inventory();
    const devicesOf = new Map<string, Set<string>>();
    for (const i of items)
      for (const m of index.matches(i)) (devicesOf.get(m.advisory) ?? devicesOf.set(m.advisory, new Set()).get(m.advisory)!).add(i.deviceId);
    return [...advisories.values()].map((a) => ({
      id: a.id,
      version: a.version,
      title: a.title,
      severity: a.severity ?? null,
      vulnerabilities: a.vulnerabilities.length,
      devices: devicesOf.get(a.id)?.size ?? 0,
    }));
  }

  /** Every advisory hitting one device, per vulnerability, with its current VEX status. */
  async forDevice(who: Who, deviceId: string): Promise<DeviceAdvisory[]> {
    await this.requireReader(who, 'advisory.read');
    const item = (await this.inventory()).find((i) => i.deviceId === deviceId);
    if (!item) throw new FhirError(404, 'not-found', 'no such device in the inventory');
    return (await this.assess([item])).get(deviceId) ?? [];
  }

  /** Open advisories per device (affected or under investigation, not rejected): the fleet's vulnerability state. Devices no advisory hits are left out (none open). */
  async stateOf(deviceIds: string[]): Promise<Map<string, { open: number; highestSeverity?: string }>> {
    const wanted = new Set(deviceIds);
    const out = new Map<string, { open: number; highestSeverity?: string }>();
    const assessed = await this.assess((await this.inventory()).filter((i) => wanted.has(i.deviceId)));
    for (const [deviceId, found] of assessed) {
      const open = found.filter((x) => x.decision !== 'rejected' && (x.status === 'affected' || x.status === 'under_investigation'));
      const severity = highest(open.map((x) => x.severity).filter((s): s is string => !!s));
      out.set(deviceId, { open: new Set(open.map((x) => `${x.advisory}|${x.vulnerability}`)).size, ...(severity ? { highestSeverity: severity } : {}) });
    }
    return out;
  }

  /** For the release pipeline: open advisories hitting a release's SBOM components. */
  async checkRelease(release: {
    vendor: string;
    version: string;
    components: MatchItem['components'];
  }): Promise<Array<{ id: string; title: string; severity?: string }>> {
    const { advisories, index } = await this.current();
    const hits = index.matches({ deviceId: 'release', vendor: release.vendor, model: '', components: release.components });
    const ids = new Set(
      hits.filter((m) => advisories.get(m.advisory)?.vulnerabilities.some((v) => v.status.get(m.productId) === 'affected')).map((m) => m.advisory),
    );
    return [...ids].map((id) => ({
      id,
      title: advisories.get(id)!.title,
      ...(advisories.get(id)!.severity ? { severity: advisories.get(id)!.severity } : {}),
    }));
  }

  async decide(who: Who, d: { advisory: string; device: string; productId: string; decision: 'confirmed' | 'rejected'; note: string }): Promise<void> {
    await this.requireEngineer(who, 'advisory.match-decision');
    if (d.note.trim().length < NOTE_MIN) throw new FhirError(400, 'invalid', `say why (at least ${NOTE_MIN} characters)`);
    const match = (await this.forDevice(who, d.device)).find((m) => m.advisory === d.advisory && m.productId === d.productId);
    if (!match) throw new FhirError(404, 'not-found', 'no such match');
    const product = (await this.current()).advisories.get(d.advisory)?.products.get(d.productId);
    await this.db.query(
      'insert into advisories_decision (advisory, device_id, product_id, product_key, decision, note, by_user) values ($1, $2, $3, $4, $5, $6, $7)',
      [d.advisory, d.device, d.productId, product ? productKey(product) : null, d.decision, d.note.trim(), who.username],
    );
    await this.audit({
      action: `advisory.match-${d.decision}`,
      outcome: 'success',
      who,
      resource: { type: 'Advisory', id: d.advisory },
      details: { device: d.device },
      reason: d.note.trim(),
    });
  }

  async setVex(
    who: Who,
    v: { advisory: string; vulnerability: string; device: string; status: VexStatus; justification?: string; note: string },
  ): Promise<void> {
    await this.requireEngineer(who, 'advisory.vex');
    if (v.note.trim().length < NOTE_MIN) throw new FhirError(400, 'invalid', `say why (at least ${NOTE_MIN} characters)`);
    if (v.status === 'not_affected' && !VEX_JUSTIFICATIONS.includes(v.justification ?? ''))
      throw new FhirError(400, 'invalid', `"not affected" needs one of CSAF's justifications: ${VEX_JUSTIFICATIONS.join(', ')}`);
    const hit = (await this.forDevice(who, v.device)).some((m) => m.advisory === v.advisory && m.vulnerability === v.vulnerability);
    if (!hit) throw new FhirError(404, 'not-found', 'the advisory does not list that vulnerability for that device');
    await this.db.query(
      'insert into advisories_vex (advisory, vulnerability, device_id, status, justification, note, by_user) values ($1, $2, $3, $4, $5, $6, $7)',
      [v.advisory, v.vulnerability, v.device, v.status, v.status === 'not_affected' ? v.justification : null, v.note.trim(), who.username],
    );
    await this.audit({
      action: 'advisory.vex',
      outcome: 'success',
      who,
      resource: { type: 'Advisory', id: v.advisory },
      details: { device: v.device, vulnerability: v.vulnerability, status: v.status },
      reason: v.note.trim(),
    });
  }

  /** The history of VEX statements for a device (who, when, why): nothing is overwritten. */
  async vexHistory(
    who: Who,
    deviceId: string,
  ): Promise<Array<{ advisory: string; vulnerability: string; status: string; justification: string | null; note: string; by: string; at: string }>> {
    await this.requireReader(who, 'advisory.read');
    const r = await this.db.query<{
      advisory: string;
      vulnerability: string;
      status: string;
      justification: string | null;
      note: string;
      by_user: string;
      at: Date;
    }>('select advisory, vulnerability, status, justification, note, by_user, at from advisories_vex where device_id = $1 order by n', [deviceId]);
    return r.rows.map((x) => ({ ...x, by: x.by_user, at: new Date(x.at).toISOString() }));
  }

  /** The update release (a target such as `infusion-pump.fw-2.1.img`) that fixes the advisory. */
  async linkFix(who: Who, advisory: string, target: string): Promise<void> {
    await this.requireEngineer(who, 'advisory.fixed-by');
    if (!(await this.current()).advisories.has(advisory)) throw new FhirError(404, 'not-found', 'no such advisory');
    if (!/^[a-z0-9]+(-[a-z0-9]+)*\.[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(target))
      throw new FhirError(400, 'invalid', 'a release is named <class>.<image name>');
    await this.db.query('insert into advisories_fix (advisory, target, by_user) values ($1, $2, $3) on conflict do nothing', [advisory, target, who.username]);
    await this.audit({ action: 'advisory.fixed-by', outcome: 'success', who, resource: { type: 'Advisory', id: advisory }, details: { target } });
  }

  // ---- inside ----

  /**
   * What the advisories say of each item, with the engineers' decisions and VEX statements: three
   * queries for any number of devices (the fleet view asks for all of them at once).
   */
  private async assess(items: InventoryItem[]): Promise<Map<string, DeviceAdvisory[]>> {
    const { advisories, index } = await this.current();
    const matched = items.map((item) => ({ item, matches: index.matches(item) })).filter((x) => x.matches.length > 0);
    const result = new Map<string, DeviceAdvisory[]>();
    if (matched.length === 0) return result;
    const deviceIds = matched.map((x) => x.item.deviceId);
    // Newest first: the first decision found for a product is the one that counts.
    const decisions = await this.db.query<{
      device_id: string;
      advisory: string;
      product_id: string;
      product_key: string | null;
      decision: 'confirmed' | 'rejected';
    }>('select device_id, advisory, product_id, product_key, decision from advisories_decision where device_id = any($1) order by n desc', [deviceIds]);
    const vex = await this.db.query<{ device_id: string; advisory: string; vulnerability: string; status: VexStatus; justification: string | null }>(
      'select distinct on (device_id, advisory, vulnerability) device_id, advisory, vulnerability, status, justification from advisories_vex where device_id = any($1) order by device_id, advisory, vulnerability, n desc',
      [deviceIds],
    );
    const fixes = await this.db.query<{ advisory: string; target: string }>('select advisory, target from advisories_fix where advisory = any($1)', [
      [...new Set(matched.flatMap((x) => x.matches.map((m) => m.advisory)))],
    ]);
    const fixedByOf = new Map<string, string[]>();
    for (const f of fixes.rows) fixedByOf.set(f.advisory, [...(fixedByOf.get(f.advisory) ?? []), f.target]);
    for (const { item, matches } of matched) {
      const decided = decisions.rows.filter((d) => d.device_id === item.deviceId);
      const statements = vex.rows.filter((x) => x.device_id === item.deviceId);
      result.set(item.deviceId, this.assessOne(item, matches, advisories, decided, statements, fixedByOf));
    }
    return result;
  }

  private assessOne(
    item: InventoryItem,
    matches: ReturnType<ProductIndex['matches']>,
    advisories: Map<string, Advisory>,
    decisions: Array<{ advisory: string; product_id: string; product_key: string | null; decision: 'confirmed' | 'rejected' }>,
    vex: Array<{ advisory: string; vulnerability: string; status: VexStatus; justification: string | null }>,
    fixedByOf: Map<string, string[]>,
  ): DeviceAdvisory[] {
    const out: DeviceAdvisory[] = [];
    for (const m of matches) {
      const a = advisories.get(m.advisory)!;
      const fixedBy = fixedByOf.get(a.id) ?? [];
      for (const v of a.vulnerabilities) {
        const listed = v.status.get(m.productId);
        if (!listed) continue;
        const stated = vex.find((x) => x.advisory === a.id && x.vulnerability === v.key);
        const runsFix = item.reportedTarget != null && fixedBy.includes(item.reportedTarget);
        const [status, from, justification]: [VexStatus, DeviceAdvisory['statusFrom'], string | null] = stated
          ? [stated.status, 'engineer', stated.justification]
          : runsFix
            ? ['fixed', 'fixing-release', null]
            : [listed, 'advisory', v.justification.get(m.productId) ?? null];
        out.push({
          advisory: a.id,
          title: a.title,
          vulnerability: v.key,
          vulnerabilityTitle: v.title,
          severity: v.severity ?? a.severity ?? null,
          certainty: m.certainty,
          // By what the product is; decisions made before that was kept, by its id.
          decision:
            decisions.find(
              (d) =>
                d.advisory === a.id && (d.product_key === null ? d.product_id === m.productId : d.product_key === productKey(a.products.get(m.productId)!)),
            )?.decision ?? null,
          via: m.via,
          productId: m.productId,
          status,
          statusFrom: from,
          justification,
          fixedBy,
          fixes: v.fixes.filter((f) => f.productIds.includes(m.productId)).map((f) => f.details),
        });
      }
    }
    return out;
  }

  /** The newest revision of each advisory, parsed and indexed; rebuilt when another import is seen (any process). */
  private async current(): Promise<{ advisories: Map<string, Advisory>; index: ProductIndex }> {
    const stamp = (await this.db.query<{ stamp: string }>(`select count(*) || ':' || coalesce(max(imported_at)::text, '') as stamp from advisories_document`))
      .rows[0].stamp;
    if (this.cache?.stamp === stamp) return this.cache;
    const rows = await this.db.query<{ id: string; version: string; document: Record<string, never> }>('select id, version, document from advisories_document');
    const newest = new Map<string, { version: string; document: Record<string, never> }>();
    for (const r of rows.rows) {
      const had = newest.get(r.id);
      if (!had || (compareVersions(r.version, had.version) ?? 0) > 0) newest.set(r.id, r);
    }
    const advisories = new Map([...newest.values()].map((r) => [r.document ? readAdvisory(r.document).id : '', readAdvisory(r.document)]));
    this.cache = { stamp, advisories, index: new ProductIndex(advisories.values()) };
    return this.cache;
  }

  /** Refusals are recorded like every step (who tried what), then answered 403. */
  private async requireEngineer(who: Who, action: string): Promise<void> {
    if (who.system || who.roles.includes('biomedical-engineer')) return;
    await this.refuse(who, action, 'advisories are handled by biomedical engineers');
  }

  private async requireReader(who: Who, action: string): Promise<void> {
    if (who.system || who.roles.some((r) => r === 'biomedical-engineer' || r === 'security-admin')) return;
    await this.refuse(who, action, 'advisories are shown to biomedical engineers and security admins');
  }

  private async refuse(who: Who, action: string, reason: string): Promise<never> {
    await this.audit({ action, outcome: 'denied', who, reason });
    throw new FhirError(403, 'forbidden', reason);
  }
}
