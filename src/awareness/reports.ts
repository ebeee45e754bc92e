/**
 * Mail staff report (the button, the report mailbox). A reported simulation is recognised by its
 * token and credited at once; anything else is triaged (triage/) and joins the queue, grouped with
 * the same message reported by others. The message itself is kept sealed with the general key: it
 * may hold anything, patient data included; only its sender, subject and links are kept readable,
 * for the queue and the search.
 */
import crypto from 'node:crypto';
import { parseMail } from './parseMail.js';
import type { Database, Queryable } from '../db/index.js';
import { FhirError } from '../shared/index.js';
import { tokenHash } from './campaigns.js';
import { triageMessage } from './triage/triage.js';
import { NotAMailMessage, type DnsResolver, type TriageResult } from './triage/types.js';

export interface Reason {
  code: string;
  text: string;
}

export interface ReportAnswer {
  id: string;
  verdict: 'phishing' | 'suspicious' | 'clean';
  reasons: Reason[];
  /** Set when the message was one of the awareness programme's simulations. */
  simulation?: boolean;
}

export interface ReportRow {
  id: string;
  reporter: string;
  receivedAt: string;
  via: 'button' | 'mailbox';
  simulation: boolean;
  verdict: string;
  score: number;
  reasons: Reason[];
  sender: string;
  subject: string;
  links: string[];
  fingerprint: string;
  outcome?: string;
  outcomeNote?: string;
  decidedBy?: string;
  decidedAt?: string;
}

export const OUTCOMES = ['phishing', 'harmless', 'spam'] as const;
export type ReportOutcome = (typeof OUTCOMES)[number];

const TOKEN_IN_LINK = /\/aw\/[co]\/([A-Za-z0-9_-]{43})/g;
const CREDIT: Reason = { code: 'simulation', text: "Well spotted: this was a simulated phishing message from the clinic's awareness programme." };

export interface IntakeDeps {
  db: Database;
  domains: () => string[];
  staff: () => Promise<Array<{ name: string; email: string }>>;
  seal: (raw: Buffer, id: string) => Buffer;
  resolver?: DnsResolver;
}

/** The simulation tokens a message carries in its links or pixel (a forwarded copy keeps them in its text). */
async function tokensIn(raw: Buffer): Promise<string[]> {
  const parsed = await parseMail(raw, { skipImageLinks: true, skipTextToHtml: true });
  const texts = [typeof parsed.html === 'string' ? parsed.html : '', parsed.text ?? ''];
  for (const a of parsed.attachments) if (a.contentType === 'message/rfc822') texts.push(...(await tokensIn(a.content)));
  const found = new Set<string>();
  for (const t of texts) for (const m of t.matchAll(TOKEN_IN_LINK)) found.add(m[1]);
  // A raw search too: quoted-printable can break a link over lines, the parser rejoins it, but a
  // message that would not parse as HTML still carries its links in the source.
  for (const m of raw
    .toString('latin1')
    .replace(/=\r?\n/g, '')
    .matchAll(TOKEN_IN_LINK))
    found.add(m[1]);
  return [...found];
}

export async function intake(deps: IntakeDeps, reporter: string, raw: Buffer, via: 'button' | 'mailbox', at: Date): Promise<ReportAnswer> {
  if (raw.length === 0) throw new FhirError(400, 'invalid', 'the report carries no message');
  const tokens = await tokensIn(raw).catch(() => [] as string[]);
  for (const token of tokens) {
    const target = await deps.db.query<{ id: string; campaign_id: string }>('select id, campaign_id from awareness_target where token_hash = $1', [
      tokenHash(token),
    ]);
    if (!target.rows[0]) continue;
    const { id: targetId, campaign_id: campaignId } = target.rows[0];
    const id = crypto.randomUUID();
    await deps.db.transaction(async (tx) => {
      const already = await tx.query(`select 1 from awareness_event where target_id = $1 and kind = 'reported'`, [targetId]);
      if (already.rows.length === 0)
        await tx.query(`insert into awareness_event (target_id, kind, at, facts) values ($1, 'reported', $2, $3)`, [targetId, at, JSON.stringify({ via })]);
      await insertReport(tx, {
        id,
        reporter,
        at,
        via,
        targetId,
        verdict: 'phishing',
        score: 100,
        reasons: [CREDIT],
        sender: '',
        subject: '',
        links: [],
        fingerprint: `simulation:${campaignId}`,
      });
    });
    return { id, verdict: 'phishing', reasons: [CREDIT], simulation: true };
  }
  let result: TriageResult;
  try {
    result = await triageMessage(raw, { domains: deps.domains(), staff: await deps.staff(), ...(deps.resolver ? { resolver: deps.resolver } : {}), now: at });
  } catch (err) {
    if (err instanceof NotAMailMessage) throw new FhirError(400, 'invalid', 'the report is not an e-mail message (RFC 822)');
    throw err;
  }
  const id = crypto.randomUUID();
  await insertReport(deps.db, {
    id,
    reporter,
    at,
    via,
    verdict: result.verdict,
    score: result.score,
    reasons: result.reasons,
    sender: (result.summary.from ?? '').slice(0, 320),
    subject: (result.summary.subject ?? '').slice(0, 500),
    links: result.summary.links.slice(0, 100),
    fingerprint: result.summary.fingerprint,
    sealed: deps.seal(raw, id),
  });
  return { id, verdict: result.verdict, reasons: result.reasons };
}

async function insertReport(
  q: Queryable,
  r: {
    id: string;
    reporter: string;
    at: Date;
    via: string;
    targetId?: string;
    verdict: string;
    score: number;
    reasons: Reason[];
    sender: string;
    subject: string;
    links: string[];
    fingerprint: string;
    sealed?: Buffer;
  },
): Promise<void> {
  await q.query(
    `insert into awareness_report (id, reporter, received_at, via, target_id, verdict, score, reasons, sender, subject, links, fingerprint, message_sealed)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      r.id,
      r.reporter,
      r.at,
      r.via,
      r.targetId ?? null,
      r.verdict,
      r.score,
      JSON.stringify(r.reasons),
      r.sender,
      r.subject,
      r.links,
      r.fingerprint,
      r.sealed ?? null,
    ],
  );
}

interface Row {
  id: string;
  reporter: string;
  received_at: Date;
  via: 'button' | 'mailbox';
  target_id: string | null;
  verdict: string;
  score: number;
  reasons: Reason[];
  sender: string;
  subject: string;
  links: string[];
  fingerprint: string;
  outcome: string | null;
  outcome_note: string | null;
  decided_by: string | null;
  decided_at: Date | null;
}

function toReport(r: Row): ReportRow {
  return {
    id: r.id,
    reporter: r.reporter,
    receivedAt: r.received_at.toISOString(),
    via: r.via,
    simulation: r.target_id !== null,
    verdict: r.verdict,
    score: Number(r.score),
    reasons: r.reasons,
    sender: r.sender,
    subject: r.subject,
    links: r.links,
    fingerprint: r.fingerprint,
    ...(r.outcome ? { outcome: r.outcome } : {}),
    ...(r.outcome_note ? { outcomeNote: r.outcome_note } : {}),
    ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
    ...(r.decided_at ? { decidedAt: r.decided_at.toISOString() } : {}),
  };
}

const COLUMNS =
  'id, reporter, received_at, via, target_id, verdict, score, reasons, sender, subject, links, fingerprint, outcome, outcome_note, decided_by, decided_at';

export async function reportsOf(q: Queryable, reporter: string): Promise<ReportRow[]> {
  const r = await q.query<Row>(`select ${COLUMNS} from awareness_report where reporter = $1 order by received_at desc limit 200`, [reporter]);
  return r.rows.map(toReport);
}

/** A LIKE pattern matching `text` anywhere, its own % and _ taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The queue (real messages, newest first) or a search by sender, subject or link. */
export async function searchReports(q: Queryable, filter: { sender?: string; subject?: string; link?: string; open?: boolean }): Promise<ReportRow[]> {
  const where = ['target_id is null'];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.sender) add((p) => `sender ilike ${p}`, containing(filter.sender));
  if (filter.subject) add((p) => `subject ilike ${p}`, containing(filter.subject));
  if (filter.link) add((p) => `exists (select 1 from unnest(links) l where l ilike ${p})`, containing(filter.link));
  if (filter.open) where.push('outcome is null');
  const r = await q.query<Row>(`select ${COLUMNS} from awareness_report where ${where.join(' and ')} order by received_at desc limit 500`, params);
  return r.rows.map(toReport);
}

/** The same message reported by several people: one line per fingerprint. */
export function clusters(
  reports: ReportRow[],
): Array<{ fingerprint: string; reports: number; reporters: number; first: string; verdict: string; subject: string; sender: string; ids: string[] }> {
  const byPrint = new Map<string, ReportRow[]>();
  for (const r of reports) byPrint.set(r.fingerprint, [...(byPrint.get(r.fingerprint) ?? []), r]);
  const rank = { phishing: 2, suspicious: 1, clean: 0 } as Record<string, number>;
  return [...byPrint.entries()]
    .map(([fingerprint, list]) => ({
      fingerprint,
      reports: list.length,
      reporters: new Set(list.map((r) => r.reporter)).size,
      first: list.map((r) => r.receivedAt).sort()[0],
      verdict: list.map((r) => r.verdict).sort((a, b) => (rank[b] ?? 0) - (rank[a] ?? 0))[0],
      subject: list[0].subject,
      sender: list[0].sender,
      ids: list.map((r) => r.id),
    }))
    .sort((a, b) => b.reports - a.reports || b.first.localeCompare(a.first));
}

/** The officer's decision on a reported message, and on every report of the same message still open. */
export async function decide(q: Queryable, id: string, outcome: ReportOutcome, note: string, by: string, at: Date): Promise<number> {
  const r = await q.query<{ fingerprint: string }>('select fingerprint from awareness_report where id = $1 and target_id is null', [id]);
  if (!r.rows[0]) throw new FhirError(404, 'not-found', 'no such reported message');
  const done = await q.query(
    `update awareness_report set outcome = $2, outcome_note = $3, decided_by = $4, decided_at = $5 where fingerprint = $1 and target_id is null and (outcome is null or id = $6)`,
    [r.rows[0].fingerprint, outcome, note, by, at, id],
  );
  return done.rowCount ?? 0;
}
