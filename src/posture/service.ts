/**
 * Posture (issue 27), the capability's one entrance: the scorecard measured now or as last taken,
 * attestations for what Carewall cannot measure, and the history of snapshots. Administrators and
 * the privacy and security officers read it; nothing in it is patient data. Each snapshot's SHA-256
 * goes into the tamper-evident audit log, so the trend cannot be rewritten unseen.
 */
import crypto from 'node:crypto';
import type { Settings } from '../config.js';
import { toBuffer, type Database } from '../db/index.js';
import type { Logger } from '../log.js';
import { FhirError, type EquipmentAudit, type Who } from '../shared/index.js';
import { runChecks } from './checks.js';
import { gatherFacts, type FactSources } from './gather.js';
import { nextSteps, score, type Attestation } from './scoring.js';
import { postureSettings, type PostureSettings } from './settings.js';
import type { ClinicSize, Framework, Scorecard } from './types.js';

const READERS = ['admin', 'privacy-officer', 'security-admin'];
/** A scorecard older than this is measured afresh when asked for. */
const FRESH_HOURS = 24;

export interface PostureDeps {
  db: Database;
  settings: Settings;
  framework: () => Framework;
  /** The checks that bear on each item, by item id (mapping.ts). */
  itemChecks: Record<string, string[]>;
  sources: FactSources;
  audit: EquipmentAudit;
  seal: (plain: Buffer, context: string) => Buffer;
  open: (sealed: Buffer, context: string) => Buffer;
  log: Logger;
}

export interface AttestationInput {
  item: string;
  status: Attestation['status'];
  note: string;
  /** When it must be reviewed again (ISO date); after it, the item counts as missing. */
  expiresAt: string;
  evidence?: { name: string; content: Buffer };
}

export class PostureService {
  private timer?: NodeJS.Timeout;
  private readonly settings: PostureSettings;

  constructor(private readonly deps: PostureDeps) {
    this.settings = postureSettings(deps.settings);
  }

  private size(): ClinicSize {
    return this.settings.size;
  }

  private async allow(who: Who, action: string): Promise<void> {
    if (who.system || who.roles.some((r) => READERS.includes(r))) return;
    await this.deps.audit({ action, outcome: 'denied', who, reason: `requires the role ${READERS.join(' or ')}` });
    throw new FhirError(403, 'forbidden', 'access denied');
  }

  private async attestations(): Promise<Attestation[]> {
    const r = await this.deps.db.query<{
      item: string;
      status: Attestation['status'];
      owner: string;
      note: string;
      attested_at: Date;
      expires_at: Date;
      evidence_sha256: string | null;
    }>(`select distinct on (item) item, status, owner, note, attested_at, expires_at, evidence_sha256 from posture_attestation order by item, n desc`);
    return r.rows.map((a) => ({
      item: a.item,
      status: a.status,
      owner: a.owner,
      note: a.note,
      attestedAt: a.attested_at.toISOString(),
      expiresAt: a.expires_at.toISOString(),
      ...(a.evidence_sha256 ? { evidenceSha256: a.evidence_sha256 } : {}),
    }));
  }

  /** Measures everything now and keeps the result as a snapshot (its hash in the audit log). */
  async measure(now: Date = new Date()): Promise<Scorecard> {
    const facts = await gatherFacts(this.deps.sources, now, this.settings);
    const card = score({
      framework: this.deps.framework(),
      size: this.size(),
      findings: runChecks(facts),
      itemChecks: this.deps.itemChecks,
      attestations: await this.attestations(),
      now,
    });
    const body = JSON.stringify(card);
    const sha256 = crypto.createHash('sha256').update(body).digest('hex');
    await this.deps.db.query('insert into posture_snapshot (taken_at, card, sha256) values ($1, $2, $3) on conflict (taken_at) do nothing', [
      now,
      body,
      sha256,
    ]);
    await this.deps.audit({
      action: 'posture.snapshot',
      outcome: 'success',
      who: { accountId: 'system', username: 'system', roles: ['admin'], system: true },
      details: { sha256, inPlace: card.summary.inPlace, total: card.summary.total },
    });
    return card;
  }

  /** The scorecard: the last snapshot when it is fresh, measured now otherwise. */
  async scorecard(who: Who, now: Date = new Date()): Promise<Scorecard> {
    await this.allow(who, 'posture.read');
    const last = await this.deps.db.query<{ card: Scorecard; taken_at: Date }>('select card, taken_at from posture_snapshot order by taken_at desc limit 1');
    const row = last.rows[0];
    if (row && now.getTime() - row.taken_at.getTime() < FRESH_HOURS * 3_600_000) return row.card;
    return this.measure(now);
  }

  async refresh(who: Who, now: Date = new Date()): Promise<Scorecard> {
    await this.allow(who, 'posture.refresh');
    return this.measure(now);
  }

  async next(who: Who) {
    return nextSteps(await this.scorecard(who), this.deps.framework());
  }

  /** Every snapshot's headline figures, oldest first: the trend. */
  async history(who: Who) {
    await this.allow(who, 'posture.read');
    const r = await this.deps.db.query<{ taken_at: Date; card: Scorecard; sha256: string }>(
      'select taken_at, card, sha256 from posture_snapshot order by taken_at',
    );
    return r.rows.map((s) => ({
      at: s.taken_at.toISOString(),
      inPlace: s.card.summary.inPlace,
      total: s.card.summary.total,
      threats: Object.fromEntries(s.card.threats.map((t) => [t.id, t.score])),
      sha256: s.sha256,
    }));
  }

  /** An owner vouches for an item Carewall cannot measure, until a review date; the evidence file is kept sealed. */
  async attest(who: Who, input: AttestationInput, now: Date = new Date()): Promise<Attestation> {
    await this.allow(who, 'posture.attest');
    const item = this.deps
      .framework()
      .practices.flatMap((p) => p.items)
      .find((i) => i.id === input.item);
    if (!item) throw new FhirError(400, 'invalid', 'no such item in the framework');
    const expires = new Date(input.expiresAt);
    if (Number.isNaN(expires.getTime()) || expires <= now) throw new FhirError(400, 'invalid', 'the review date must be a date in the future');
    if (expires.getTime() - now.getTime() > 400 * 86_400_000) throw new FhirError(400, 'invalid', 'an attestation is reviewed at least every 13 months');
    const note = input.note.trim();
    if (note.length < 10 || note.length > 2000) throw new FhirError(400, 'invalid', 'the note says what was checked (10 to 2000 characters)');
    const sha256 = input.evidence ? crypto.createHash('sha256').update(input.evidence.content).digest('hex') : undefined;
    await this.deps.db.query(
      `insert into posture_attestation (item, status, owner, note, attested_at, expires_at, evidence_sealed, evidence_sha256, evidence_name) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        item.id,
        input.status,
        who.username,
        note,
        now,
        expires,
        input.evidence ? this.deps.seal(input.evidence.content, `posture-evidence:${item.id}`) : null,
        sha256 ?? null,
        input.evidence?.name.slice(0, 200) ?? null,
      ],
    );
    await this.deps.audit({
      action: 'posture.attest',
      outcome: 'success',
      who,
      resource: { type: 'posture-item', id: item.id },
      details: { status: input.status, expiresAt: expires.toISOString(), ...(sha256 ? { evidenceSha256: sha256 } : {}) },
    });
    // The scorecard counts it at once (a snapshot taken now), rather than at tomorrow's.
    await this.measure(now);
    return {
      item: item.id,
      status: input.status,
      owner: who.username,
      note,
      attestedAt: now.toISOString(),
      expiresAt: expires.toISOString(),
      ...(sha256 ? { evidenceSha256: sha256 } : {}),
    };
  }

  /**
   * The evidence file of an item's current attestation, opened, for whoever reviews it (an auditor,
   * the next owner); the reading is audited. undefined when the attestation carries none.
   */
  async evidence(who: Who, item: string): Promise<{ name: string; content: Buffer; sha256: string } | undefined> {
    await this.allow(who, 'posture.evidence');
    const r = await this.deps.db.query<{ evidence_sealed: Buffer | null; evidence_name: string | null; evidence_sha256: string | null }>(
      `select evidence_sealed, evidence_name, evidence_sha256 from posture_attestation where item = $1 order by n desc limit 1`,
      [item],
    );
    const row = r.rows[0];
    if (!row?.evidence_sealed || !row.evidence_sha256) return undefined;
    const content = this.deps.open(toBuffer(row.evidence_sealed), `posture-evidence:${item}`);
    await this.deps.audit({
      action: 'posture.evidence',
      outcome: 'success',
      who,
      resource: { type: 'posture-item', id: item },
      details: { evidenceSha256: row.evidence_sha256 },
    });
    return { name: row.evidence_name ?? `${item}-evidence`, content, sha256: row.evidence_sha256 };
  }

  async listAttestations(who: Who): Promise<Attestation[]> {
    await this.allow(who, 'posture.read');
    return this.attestations();
  }

  /** The server's daily snapshot. */
  start(): void {
    this.timer = setInterval(
      () => void this.measure().catch((err: Error) => this.deps.log.warn({ err: { type: err.name } }, 'posture: the daily snapshot failed')),
      FRESH_HOURS * 3_600_000,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
