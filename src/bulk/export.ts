/**
 * FHIR Bulk Data export (`$export`, system, patient and group level, NDJSON, the asynchronous kick-off /
 * status / download pattern), guarded: a mass export is the classic leak, so every job waits for
 * a second person (a privacy officer or security admin other than the requester) to approve it
 * before it runs; it runs under the requester's own access rules, never wider; its files are sealed
 * in the database and can be downloaded, by the requester only, for a limited time; and the
 * request, the decision, the run (types, counts, patients) and every download are audit records.
 */
import crypto from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { authorize } from '../access/index.js';
import { type Who } from '../shared/index.js';
import { auditUser, type AuditService } from '../audit/index.js';
import type { Database } from '../db/index.js';
import { fromDatabaseAway } from '../db/index.js';
import { retryWhileAway } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { instantParam, parseElements, withElements, type FhirService } from '../records/index.js';
import { ignoredParameterOutcomes } from './lenient.js';
import { FhirError, ID_PATTERN, SUPPORTED_TYPES, isPatientData } from '../shared/index.js';
import type { Logger } from '../log.js';
import { exportedResources, fileContext, groupMembers, mayApprove, patientsOf } from './exportRead.js';

/** Resources per file written. */
const FILE_MAX = 10_000;

export type ExportLevel = 'system' | 'patient' | 'group';

export type ExportStatus = 'awaiting-approval' | 'running' | 'completed' | 'failed' | 'rejected' | 'cancelled';

export interface ExportRequest {
  level: ExportLevel;
  /** Group level: the Group whose members (those the requester may see) the export covers. */
  group?: string;
  types?: string[];
  since?: string;
  patients?: string[];
  /** The kick-off URL as sent (the manifest repeats it). */
  request?: string;
  /** `_elements`: root elements to keep (records/elements.ts), checked against the types at kick-off. */
  elements?: string[];
  /** Parameters this server does not implement, ignored because the client asked (Prefer: handling=lenient). */
  ignored?: string[];
}

export interface ExportJob {
  id: string;
  level: ExportLevel;
  group?: string;
  types: string[];
  since?: string;
  patients?: string[];
  requester: { account: string; username: string };
  status: ExportStatus;
  requestedAt: string;
  decidedBy?: string;
  decidedAt?: string;
  transactionTime?: string;
  completedAt?: string;
  expiresAt?: string;
  error?: string;
  files: Array<{ seq: number; type: string; count: number }>;
  /** The kick-off URL as sent. */
  request?: string;
  /** Parameters ignored at the client's request: the manifest reports each. */
  ignored?: string[];
  /** Once run: how many resources of each type and which patients the files hold (for the requester and the approvers). */
  contents?: { counts: Record<string, number>; patients: string[] };
}

export interface JobRow {
  id: string;
  level: ExportLevel;
  group_id: string | null;
  elements: string[] | null;
  ignored: string[] | null;
  types: string[];
  since: Date | null;
  patients: string[] | null;
  requester: Who;
  status: ExportStatus;
  requested_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  transaction_time: Date | null;
  completed_at: Date | null;
  expires_at: Date | null;
  error: string | null;
  summary: { counts?: Record<string, number>; patients?: number; patientRefs?: string[] } | null;
  request: string | null;
}

/** A job the database walked out on: tried again after 2, 4, 8, 16 and 30 s. */
const EXPORT_RETRY = { attempts: 6, delayMs: 2000, maxDelayMs: 30_000 };

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : undefined);

export class BulkExports {
  /** Jobs running in this process (tests and shutdown wait for them). */
  readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly fhir: FhirService,
    private readonly keyring: Keyring,
    private readonly audit: AuditService,
    private readonly log: Logger,
    /** How long files stay downloadable after a job completes. */
    private readonly availableHours = 24,
  ) {}

  /** Kick-off: the job is stored awaiting approval; nothing is read yet. */
  async request(who: Who, req: ExportRequest): Promise<ExportJob> {
    const candidates = req.level !== 'system' ? SUPPORTED_TYPES.filter((t) => t === 'Patient' || isPatientData(t)) : SUPPORTED_TYPES;
    const types = req.types && req.types.length > 0 ? [...new Set(req.types)] : candidates.filter((t) => this.fhir.access.mayTouchType(who, 'read', t));
    const unknown = types.find((t) => !candidates.includes(t));
    if (unknown) throw new FhirError(400, 'not-supported', `_type names a type that cannot be exported at ${req.level} level`);
    const refused = types.find((t) => !this.fhir.access.mayTouchType(who, 'read', t));
    if (refused || types.length === 0) throw new FhirError(403, 'forbidden', `the caller may not read ${refused ?? 'any exportable type'}`);
    const since = req.since ? instantParam('_since', req.since) : undefined;
    // Nothing has changed since a moment still to come: such an export is a mistake, said at once.
    if (since && since.getTime() > Date.now()) throw new FhirError(400, 'invalid', '_since is in the future');
    const patients = req.patients?.map((p) => p.replace(/^Patient\//, ''));
    if (patients?.some((p) => !/^[A-Za-z0-9\-.]{1,64}$/.test(p))) throw new FhirError(400, 'invalid', 'patient must list Patient references');
    // Checked now, against the types exported: a bad name is refused before anyone is asked to approve.
    if (req.elements) parseElements(req.elements, types);
    if (req.level === 'group') {
      if (!req.group || !ID_PATTERN.test(req.group)) throw new FhirError(404, 'not-found', 'no such Group');
      // The Group must be one the requester may read now (decided and recorded as any read); its
      // members are read again when the job runs, as the requester may see them then.
      await this.fhir.read(who, 'Group', req.group);
    }
    const id = crypto.randomUUID();
    const requester: Who = { accountId: who.accountId, username: who.username, roles: who.roles, practitioner: who.practitioner, client: who.client };
    await this.db.query(
      `insert into bulk_export_job (id, level, types, since, patients, requester, status, request, group_id, elements, ignored)
       values ($1, $2, $3, $4, $5, $6::jsonb, 'awaiting-approval', $7, $8, $9, $10)`,
      [
        id,
        req.level,
        types,
        since ?? null,
        patients ?? null,
        JSON.stringify(requester),
        req.request?.slice(0, 4000) ?? null,
        req.group ?? null,
        req.elements ?? null,
        req.ignored && req.ignored.length > 0 ? req.ignored : null,
      ],
    );
    await this.record(who, 'export.request', 'success', id, {
      level: req.level,
      types,
      since: since?.toISOString(),
      patients: patients?.length,
      ...(req.group ? { group: `Group/${req.group}` } : {}),
    });
    return (await this.job(id))!;
  }

  /** A second person approves (the job starts) or rejects it. */
  async decide(who: Who, id: string, approve: boolean, note?: string): Promise<ExportJob> {
    const action = approve ? 'export.approve' : 'export.reject';
    try {
      authorize(who, 'export.approve');
    } catch (err) {
      await this.record(who, action, 'denied', id, { reason: (err as Error).message });
      throw err;
    }
    const row = await this.row(id);
    if (!row) throw new FhirError(404, 'not-found', 'no such export job');
    if (row.requester.accountId === who.accountId) {
      await this.record(who, action, 'denied', id, { reason: 'the requester may not decide on their own export' });
      throw new FhirError(403, 'forbidden', 'a second person must approve an export: not the one who asked for it');
    }
    const r = await this.db.query(
      `update bulk_export_job set status = $2, decided_by = $3, decided_at = now(), decision_note = $4
       where id = $1 and status = 'awaiting-approval' returning id`,
      [id, approve ? 'running' : 'rejected', who.username, note?.slice(0, 2000) ?? null],
    );
    if (r.rows.length === 0) throw new FhirError(409, 'conflict', `the job is ${row.status}, not awaiting approval`);
    await this.record(who, action, 'success', id, { requester: row.requester.username, ...(note ? { note: note.slice(0, 2000) } : {}) });
    if (approve) {
      const run = this.runRetrying(id).finally(() => this.running.delete(id));
      this.running.set(id, run);
    }
    return (await this.job(id))!;
  }

  /**
   * The requester cancels (DELETE on the status URL): a job awaiting approval leaves the approvers'
   * queue, a running one stops counting, and every file it wrote is deleted at once.
   */
  async cancel(who: Who, id: string): Promise<void> {
    const row = await this.row(id);
    if (!row || row.requester.accountId !== who.accountId) throw new FhirError(404, 'not-found', 'no such export job');
    const r = await this.db.query(
      `update bulk_export_job set status = 'cancelled', completed_at = coalesce(completed_at, now())
       where id = $1 and status in ('awaiting-approval', 'running', 'completed') returning id`,
      [id],
    );
    if (r.rows.length === 0) throw new FhirError(404, 'not-found', `the job is ${row.status}: nothing to cancel`);
    await this.db.query('delete from bulk_export_file where job_id = $1', [id]);
    await this.record(who, 'export.cancel', 'success', id, { was: row.status });
  }

  /** The job, for its requester and for those who may approve exports. */
  async status(who: Who, id: string): Promise<ExportJob> {
    const row = await this.row(id);
    if (!row || (row.requester.accountId !== who.accountId && !mayApprove(who))) throw new FhirError(404, 'not-found', 'no such export job');
    return (await this.job(id))!;
  }

  async list(who: Who, status?: ExportStatus): Promise<ExportJob[]> {
    authorize(who, 'export.approve');
    const r = await this.db.query<{ id: string }>('select id from bulk_export_job where $1::text is null or status = $1 order by requested_at desc limit 500', [
      status ?? null,
    ]);
    return Promise.all(r.rows.map(async (row) => (await this.job(row.id))!));
  }

  /** One output file, NDJSON, to its requester while the job's files are available. */
  async file(who: Who, id: string, seq: number): Promise<{ type: string; count: number; body: Buffer }> {
    const row = await this.row(id);
    if (!row || row.requester.accountId !== who.accountId) throw new FhirError(404, 'not-found', 'no such export file');
    if (row.expires_at && new Date(row.expires_at).getTime() <= Date.now()) {
      await this.db.query('delete from bulk_export_file where job_id = $1', [id]);
      await this.record(who, 'export.download', 'denied', id, { file: seq, reason: 'the files have expired' });
      throw new FhirError(410, 'deleted', 'the export files have expired; ask for a new export');
    }
    const f = (
      await this.db.query<{ resource_type: string; count: number; body: unknown; patients: number | null }>(
        'select resource_type, count, body, patients from bulk_export_file where job_id = $1 and seq = $2',
        [id, seq],
      )
    ).rows[0];
    if (!f) throw new FhirError(404, 'not-found', 'no such export file');
    // The caller now, not only at kick-off: a client that narrows its token's scopes (or an account
    // whose roles changed) takes away only what its scopes still cover.
    if (!this.fhir.access.mayTouchType(who, 'read', f.resource_type)) {
      await this.record(who, 'export.download', 'denied', id, { file: seq, type: f.resource_type, reason: 'the caller may not read this type' });
      throw new FhirError(403, 'forbidden', 'the caller may not read the type this file holds');
    }
    const body = this.keyring.openGeneral(toBuffer(f.body), fileContext(id, seq));
    // Counted when written (an `_elements` file may have left out the references that name them);
    // files written before that column are counted from their lines.
    let patients = f.patients;
    if (patients === null) {
      const seen = new Set<string>();
      for (const line of body.toString('utf8').split('\n')) if (line) for (const p of patientsOf(JSON.parse(line) as Resource)) seen.add(p);
      patients = seen.size;
    }
    await this.record(who, 'export.download', 'success', id, { file: seq, type: f.resource_type, count: f.count, patients });
    return { type: f.resource_type, count: f.count, body };
  }

  /** The error file of a completed export: an OperationOutcome for each parameter it ignored (lenient.ts). */
  async errors(who: Who, id: string): Promise<Buffer> {
    const job = await this.job(id);
    if (!job || job.requester.account !== who.accountId || job.status !== 'completed' || !job.ignored)
      throw new FhirError(404, 'not-found', 'no such export file');
    return Buffer.from(ignoredParameterOutcomes(job.ignored), 'utf8');
  }

  /** Stops waiting for the database to come back for a job (shutdown). */
  stop(): void {
    this.stopping.abort();
  }

  /**
   * A job cut off by the database going away (a restart, a failover) runs again from the start once
   * it is back, its partial files deleted first: the second person's approval stands. The last try
   * (about a minute on) ends the job as failed. Never rejects: nothing waits on a job but
   * shutdown, and an unhandled rejection would end the process.
   */
  private async runRetrying(id: string): Promise<void> {
    let tries = 0;
    await retryWhileAway(
      async () => {
        if (tries++ > 0) await this.db.query('delete from bulk_export_file where job_id = $1', [id]);
        await this.run(id, tries >= EXPORT_RETRY.attempts);
      },
      {
        ...EXPORT_RETRY,
        signal: this.stopping.signal,
        onRetry: () => this.log.warn({ job: id }, 'bulk export: the database is unavailable; the job runs again when it is back'),
      },
    ).catch((err: Error) => this.log.error({ job: id, err: err.name }, 'bulk export: the job could not be run or ended'));
  }

  private async run(id: string, lastTry = true): Promise<void> {
    const row = (await this.row(id))!;
    // Files no one watches at a screen: care relationships only, never an emergency grant.
    const who: Who = { ...row.requester, withoutGrants: true };
    try {
      const transactionTime = new Date();
      await this.db.query('update bulk_export_job set transaction_time = $2 where id = $1', [id, transactionTime]);
      let seq = 0;
      const counts: Record<string, number> = {};
      const patients = new Set<string>();
      // Group level: the members the requester may see now (a hidden member is not even searched for).
      const confine = row.level === 'group' ? await groupMembers(this.fhir, who, row.group_id!) : (row.patients ?? undefined);
      const elements = parseElements(row.elements ?? undefined, row.types);
      for (const type of row.types) {
        let lines: string[] = [];
        let inFile = new Set<string>();
        const flush = async () => {
          if (lines.length === 0) return;
          const body = this.keyring.sealGeneral(lines.join('\n') + '\n', fileContext(id, ++seq));
          await this.db.query('insert into bulk_export_file (job_id, seq, resource_type, count, body, patients) values ($1, $2, $3, $4, $5, $6)', [
            id,
            seq,
            type,
            lines.length,
            body,
            inFile.size,
          ]);
          lines = [];
          inFile = new Set();
        };
        for await (const resource of exportedResources(this.fhir, who, type, { since: row.since, patients: confine }, transactionTime)) {
          // Whose it is, from the whole resource, before `_elements` may leave out its references.
          for (const p of patientsOf(resource)) {
            patients.add(p);
            inFile.add(p);
          }
          lines.push(JSON.stringify(withElements(elements, resource)));
          counts[type] = (counts[type] ?? 0) + 1;
          if (lines.length >= FILE_MAX) await flush();
        }
        await flush();
      }
      const done = await this.db.query(
        `update bulk_export_job set status = 'completed', completed_at = now(), expires_at = now() + make_interval(secs => $2::float8), summary = $3::jsonb where id = $1 and status = 'running' returning id`,
        [id, this.availableHours * 3600, JSON.stringify({ counts, patients: patients.size, patientRefs: [...patients].sort().map((p) => `Patient/${p}`) })],
      );
      // Cancelled while it ran: what it wrote goes too.
      if (done.rows.length === 0) {
        await this.db.query('delete from bulk_export_file where job_id = $1', [id]);
        return;
      }
      await this.record(who, 'export.run', 'success', id, { counts, patients: patients.size, files: seq });
    } catch (err) {
      if (!lastTry && fromDatabaseAway(err)) throw err; // runRetrying runs the job again
      const message = err instanceof FhirError ? err.message : fromDatabaseAway(err) ? 'the database was unavailable' : 'the export failed';
      this.log.error({ err: (err as Error).name, job: id }, 'bulk export failed');
      // Stored even if the database is still on its way back.
      const fail = () => this.db.query(`update bulk_export_job set status = 'failed', error = $2, completed_at = now() where id = $1`, [id, message]);
      await retryWhileAway(fail, { ...EXPORT_RETRY, signal: this.stopping.signal }).catch(() =>
        this.log.error({ job: id }, 'bulk export: its failure could not be stored'),
      );
      await this.record(who, 'export.run', 'failure', id, { reason: message }).catch(() => undefined);
    }
  }

  private async row(id: string): Promise<JobRow | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    return (await this.db.query<JobRow>('select * from bulk_export_job where id = $1', [id])).rows[0];
  }

  private async job(id: string): Promise<ExportJob | undefined> {
    const row = await this.row(id);
    if (!row) return undefined;
    const files = (
      await this.db.query<{ seq: number; resource_type: string; count: number }>(
        'select seq, resource_type, count from bulk_export_file where job_id = $1 order by seq',
        [id],
      )
    ).rows;
    return {
      id: row.id,
      level: row.level,
      types: row.types,
      ...(row.since ? { since: iso(row.since) } : {}),
      ...(row.patients ? { patients: row.patients } : {}),
      ...(row.group_id ? { group: row.group_id } : {}),
      requester: { account: row.requester.accountId, username: row.requester.username },
      status: row.status,
      requestedAt: iso(row.requested_at)!,
      ...(row.decided_by ? { decidedBy: row.decided_by, decidedAt: iso(row.decided_at) } : {}),
      ...(row.transaction_time ? { transactionTime: iso(row.transaction_time) } : {}),
      ...(row.completed_at ? { completedAt: iso(row.completed_at) } : {}),
      ...(row.expires_at ? { expiresAt: iso(row.expires_at) } : {}),
      ...(row.error ? { error: row.error } : {}),
      files: files.map((f) => ({ seq: f.seq, type: f.resource_type, count: f.count })),
      ...(row.request ? { request: row.request } : {}),
      ...(row.ignored && row.ignored.length > 0 ? { ignored: row.ignored } : {}),
      ...(row.summary?.patientRefs ? { contents: { counts: row.summary.counts ?? {}, patients: row.summary.patientRefs } } : {}),
    };
  }

  private async record(who: Who, action: string, outcome: 'success' | 'denied' | 'failure', id: string, explanation: object): Promise<void> {
    await this.audit.record({
      action,
      outcome,
      user: auditUser(who),
      request: who.request,
      resource: { type: 'Bundle', id },
      explanation,
    });
  }
}
