/**
 * Break-the-glass, privacy investigations and the review queue.
 *
 * A clinician who must treat a patient they have no relationship with (an emergency, a colleague's
 * patient at night) opens a time-boxed grant with a reason code and a justification; privacy
 * officers are notified at once, and every access under the grant enters the review queue. A
 * privacy officer reaches chart content only the same way, through an investigation opened with a
 * reason. Accesses to restricted patients (VIP, staff) enter the queue too.
 */
import crypto from 'node:crypto';
import type { AccessSettings } from '../config.js';
import type { Database, Queryable } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { FhirError } from '../shared/index.js';
import { AccessDeniedError, authorize } from './authorize.js';
import { type Who } from '../shared/index.js';
import type { AccessPolicy } from './policy.js';
import { announceAccessChange } from './projection.js';
import { ROLE_RIGHTS } from './roles.js';
import type { NotifyOfficers } from '../notify/index.js';

export const BREAK_GLASS_REASONS = ['emergency-treatment', 'patient-unable-to-consent', 'covering-clinician', 'urgent-result', 'other'] as const;
export const REVIEW_DECISIONS = ['appropriate', 'inappropriate'] as const;
export type GrantKind = 'break-glass' | 'investigation';

export interface GrantSummary {
  id: string;
  kind: GrantKind;
  username: string;
  patient: string;
  reason: string;
  justification: string;
  startedAt: string;
  expiresAt: string;
  active: boolean;
  status: 'unreviewed' | 'reviewed';
  review?: { by: string; at: string; decision: string; note: string };
  uses: UseSummary[];
}

export interface UseSummary {
  id: string;
  kind: string;
  username: string;
  patient: string;
  action: string;
  resource: string;
  at: string;
  reviewed: boolean;
  review?: { by: string; at: string; decision: string; note: string };
}

/**
 * What the audit log is told about grants: opened (or refused), and reviewed. The free-text
 * justification and review note stay sealed in the grant; the record names the grant.
 */
export interface GrantEvent {
  action: 'break-glass.start' | 'investigation.start' | 'break-glass.review' | 'investigation.review' | 'flagged-access.review';
  outcome: 'success' | 'denied';
  who: Who;
  patient?: string;
  grantId?: string;
  /** Reason code when opened; the review decision when reviewed; why it was refused. */
  reason: string;
  expiresAt?: string;
  tx?: Queryable;
}

const JUSTIFICATION_MIN = 10;
const TEXT_MAX = 2000;

export class AccessGrants {
  private readonly listeners: Array<(e: GrantEvent) => Promise<void>> = [];

  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly policy: AccessPolicy,
    private readonly settings: AccessSettings,
    /** Privacy officers are told of every grant opened (notify's Notices). */
    private readonly notify: NotifyOfficers,
  ) {}

  /** Listeners are awaited: when one fails (the audit log is down) the grant is not opened. */
  onEvent(listener: (e: GrantEvent) => Promise<void>): void {
    this.listeners.push(listener);
  }

  private async emit(e: GrantEvent): Promise<void> {
    for (const l of this.listeners) await l(e);
  }

  async breakGlass(
    who: Who,
    input: { patient?: unknown; reason?: unknown; justification?: unknown },
  ): Promise<{ id: string; patient: string; expiresAt: string }> {
    const allowedRole = who.roles.some((r) => this.settings.breakGlassRoles.includes(r) && ROLE_RIGHTS[r].scope === 'clinical');
    if (!allowedRole) {
      const reason = 'break-the-glass is for clinical roles only';
      const patient =
        typeof input.patient === 'string' && /^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/.test(input.patient) ? input.patient.replace(/^Patient\//, '') : undefined;
      await this.emit({ action: 'break-glass.start', outcome: 'denied', who, patient, reason });
      throw new AccessDeniedError({ allowed: false, reason });
    }
    const reason = input.reason;
    if (typeof reason !== 'string' || !(BREAK_GLASS_REASONS as readonly string[]).includes(reason)) {
      throw new FhirError(400, 'invalid', `reason must be one of ${BREAK_GLASS_REASONS.join(', ')}`);
    }
    const justification = requireText(input.justification, 'justification', JUSTIFICATION_MIN);
    const patient = await this.requirePatient(input.patient);
    const grant = await this.open('break-glass', who, patient, reason, justification, this.settings.breakGlassMinutes);
    await this.notify('break-glass', grant.id, `${who.username} broke the glass (reason: ${reason}); review grant ${grant.id}`);
    return grant;
  }

  async investigate(who: Who, input: { patient?: unknown; reason?: unknown }): Promise<{ id: string; patient: string; expiresAt: string }> {
    authorize(who, 'access.investigate');
    const reason = requireText(input.reason, 'reason', JUSTIFICATION_MIN);
    const patient = await this.requirePatient(input.patient);
    const grant = await this.open('investigation', who, patient, 'investigation', reason, this.settings.investigationMinutes);
    await this.notify('investigation', grant.id, `${who.username} opened a privacy investigation; grant ${grant.id}`);
    return grant;
  }

  /** Grants of one kind with their uses; 'unreviewed' = not yet reviewed, or used since the review. */
  async list(who: Who, kind: GrantKind, status: 'unreviewed' | 'reviewed' | 'all'): Promise<GrantSummary[]> {
    authorize(who, 'access.review');
    const r = await this.db.query<GrantRow>(
      `select g.*, g.expires_at > now() as active,
         (g.reviewed_at is null or exists (select 1 from access_use u where u.grant_id = g.id and u.reviewed_at is null)) as unreviewed
       from access_grant g where g.kind = $1 order by g.starts_at desc limit 500`,
      [kind],
    );
    const rows = r.rows.filter((g) => status === 'all' || (status === 'unreviewed') === g.unreviewed);
    if (rows.length === 0) return [];
    const uses = await this.db.query<UseRow>('select * from access_use where grant_id = any($1::text[]) order by at', [rows.map((g) => g.id)]);
    return rows.map((g) => ({
      id: g.id,
      kind: g.kind as GrantKind,
      username: g.username,
      patient: g.patient_id,
      reason: g.reason_code,
      justification: this.openText(g.justification, `access:grant:${g.id}`),
      startedAt: iso(g.starts_at),
      expiresAt: iso(g.expires_at),
      active: g.active,
      status: g.unreviewed ? 'unreviewed' : 'reviewed',
      ...(g.reviewed_at
        ? { review: { by: g.reviewer!, at: iso(g.reviewed_at), decision: g.decision!, note: g.note ? this.openText(g.note, `access:review:${g.id}`) : '' } }
        : {}),
      uses: uses.rows.filter((u) => u.grant_id === g.id).map((u) => this.useSummary(u)),
    }));
  }

  /** Reviews a grant of `kind` and every use of it so far. Nobody reviews their own grant. */
  async reviewGrant(who: Who, kind: GrantKind, grantId: string, input: { decision?: unknown; note?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const { decision, note } = reviewInput(input);
    await this.db.transaction(async (tx) => {
      const found = await tx.query<{ account_id: string; patient_id: string }>(
        'select account_id, patient_id from access_grant where id = $1 and kind = $2 for update',
        [grantId, kind],
      );
      if (found.rows.length === 0) throw new FhirError(404, 'not-found', 'no such grant');
      if (found.rows[0].account_id === who.accountId)
        throw new AccessDeniedError({ allowed: false, reason: 'a grant is reviewed by someone other than its holder' });
      await tx.query(`update access_grant set reviewed_at = now(), reviewer = $2, decision = $3, note = $4 where id = $1`, [
        grantId,
        who.username,
        decision,
        this.sealText(note, `access:review:${grantId}`),
      ]);
      // An inappropriate access ends at once: the grant's window closes now (it never reopens).
      if (decision === 'inappropriate') {
        await tx.query(`update access_grant set expires_at = greatest(starts_at + interval '1 millisecond', now()) where id = $1 and expires_at > now()`, [
          grantId,
        ]);
      }
      await tx.query(`update access_use set reviewed_at = now(), reviewer = $2, decision = $3 where grant_id = $1 and reviewed_at is null`, [
        grantId,
        who.username,
        decision,
      ]);
      await this.emit({
        action: kind === 'break-glass' ? 'break-glass.review' : 'investigation.review',
        outcome: 'success',
        who,
        patient: found.rows[0].patient_id,
        grantId,
        reason: decision,
        tx,
      });
    });
    if (decision === 'inappropriate') {
      const patient = (await this.db.query<{ patient_id: string }>('select patient_id from access_grant where id = $1', [grantId])).rows[0].patient_id;
      // Every process forgets what the ended grant let its holder see.
      this.policy.contexts.forget({ patients: [patient] });
      await announceAccessChange(this.db, { patients: [patient] });
    }
  }

  /** Flagged accesses to restricted patients. */
  async listFlagged(who: Who, status: 'unreviewed' | 'reviewed' | 'all'): Promise<UseSummary[]> {
    authorize(who, 'access.review');
    const r = await this.db.query<UseRow>(
      `select * from access_use where kind = 'restricted-patient'
         and ($1 = 'all' or ($1 = 'unreviewed') = (reviewed_at is null))
       order by at desc limit 1000`,
      [status],
    );
    return r.rows.map((u) => this.useSummary(u));
  }

  async reviewFlagged(who: Who, useId: string, input: { decision?: unknown; note?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const { decision, note } = reviewInput(input);
    if (!/^\d{1,18}$/.test(useId)) throw new FhirError(404, 'not-found', 'no such flagged access');
    await this.db.transaction(async (tx) => {
      const r = await tx.query<{ patient_id: string }>(
        `update access_use set reviewed_at = now(), reviewer = $2, decision = $3, note = $4 where id = $1 and kind = 'restricted-patient' returning patient_id`,
        [useId, who.username, decision, this.sealText(note, `access:use:${useId}`)],
      );
      if (r.rows.length === 0) throw new FhirError(404, 'not-found', 'no such flagged access');
      await this.emit({ action: 'flagged-access.review', outcome: 'success', who, patient: r.rows[0].patient_id, reason: decision, tx });
    });
  }

  /** Whether and why `subject` can access `patient` now (for admins and privacy officers). */
  async explain(who: Who, subject: { who: Who; active: boolean }, patient: string) {
    authorize(who, 'access.explain');
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(patient)) throw new FhirError(400, 'invalid', 'patient must be a patient id');
    if (!subject.active) {
      return { user: subject.who.username, patient, allowed: false, reason: 'the account is disabled or expired' };
    }
    const decision = await this.policy.decide(subject.who, 'read', 'read', { resourceType: 'Patient', id: patient, patientId: patient, labels: [] });
    return {
      user: subject.who.username,
      roles: subject.who.roles,
      practitioner: subject.who.practitioner ?? null,
      patient,
      allowed: decision.allowed,
      reason: decision.reason,
      ...(decision.grounds ? { grounds: decision.grounds } : {}),
    };
  }

  private async open(kind: GrantKind, who: Who, patient: string, reason: string, justification: string, minutes: number) {
    const id = crypto.randomUUID();
    const expiresAt = await this.db.transaction(async (tx) => {
      const r = await tx.query<{ expires_at: Date }>(
        `insert into access_grant (id, kind, account_id, username, patient_id, reason_code, justification, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8::float8)) returning expires_at`,
        [id, kind, who.accountId, who.username, patient, reason, this.sealText(justification, `access:grant:${id}`), minutes * 60],
      );
      const at = iso(r.rows[0].expires_at);
      await this.emit({
        action: kind === 'break-glass' ? 'break-glass.start' : 'investigation.start',
        outcome: 'success',
        who,
        patient,
        grantId: id,
        reason,
        expiresAt: at,
        tx,
      });
      return at;
    });
    // This process and the others may hold this patient's refusal in their decision caches.
    this.policy.contexts.forget({ patients: [patient] });
    await announceAccessChange(this.db, { patients: [patient] });
    return { id, patient, expiresAt };
  }

  private async requirePatient(value: unknown): Promise<string> {
    const ref = typeof value === 'string' ? value.replace(/^Patient\//, '') : '';
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(ref)) throw new FhirError(400, 'invalid', 'patient must be Patient/<id> or <id>');
    const r = await this.db.query('select 1 from access_patient where patient_id = $1', [ref]);
    if (r.rows.length === 0) throw new FhirError(404, 'not-found', 'no such patient');
    return ref;
  }

  private sealText(text: string, context: string): Buffer {
    return this.keyring.sealGeneral(text, context);
  }

  private openText(value: unknown, context: string): string {
    return this.keyring.openGeneral(toBuffer(value), context).toString('utf8');
  }

  private useSummary(u: UseRow): UseSummary {
    return {
      id: String(u.id),
      kind: u.kind,
      username: u.username,
      patient: u.patient_id,
      action: u.action,
      resource: u.resource_id ? `${u.resource_type}/${u.resource_id}` : u.resource_type,
      at: iso(u.at),
      reviewed: u.reviewed_at !== null,
      ...(u.reviewed_at
        ? { review: { by: u.reviewer!, at: iso(u.reviewed_at), decision: u.decision!, note: u.note ? this.openText(u.note, `access:use:${u.id}`) : '' } }
        : {}),
    };
  }
}

interface GrantRow {
  id: string;
  kind: string;
  username: string;
  patient_id: string;
  reason_code: string;
  justification: unknown;
  starts_at: Date;
  expires_at: Date;
  reviewed_at: Date | null;
  reviewer: string | null;
  decision: string | null;
  note: unknown;
  active: boolean;
  unreviewed: boolean;
}

interface UseRow {
  id: string | number;
  kind: string;
  grant_id: string | null;
  username: string;
  patient_id: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  at: Date;
  reviewed_at: Date | null;
  reviewer: string | null;
  decision: string | null;
  note: unknown;
}

function requireText(value: unknown, name: string, min: number): string {
  if (typeof value !== 'string' || value.trim().length < min || value.length > TEXT_MAX) {
    throw new FhirError(400, 'invalid', `${name} must be a text of ${min} to ${TEXT_MAX} characters`);
  }
  return value.trim();
}

/** The shortest note that explains a finding of inappropriate access. */
const NOTE_MIN = 10;

function reviewInput(input: { decision?: unknown; note?: unknown }): { decision: string; note: string } {
  if (typeof input.decision !== 'string' || !(REVIEW_DECISIONS as readonly string[]).includes(input.decision)) {
    throw new FhirError(400, 'invalid', `decision must be one of ${REVIEW_DECISIONS.join(', ')}`);
  }
  if (input.note !== undefined && (typeof input.note !== 'string' || input.note.length > TEXT_MAX)) {
    throw new FhirError(400, 'invalid', `note must be a text of at most ${TEXT_MAX} characters`);
  }
  const note = (input.note as string | undefined) ?? '';
  // A finding of misuse has consequences (the grant ends, a case may follow): it is never made without saying why.
  if (input.decision === 'inappropriate' && note.trim().length < NOTE_MIN) {
    throw new FhirError(400, 'invalid', `an inappropriate access needs a note of at least ${NOTE_MIN} characters saying why`);
  }
  return { decision: input.decision, note };
}

function iso(d: unknown): string {
  return d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString();
}
