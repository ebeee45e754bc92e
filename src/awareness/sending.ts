/**
 * Sending a campaign's messages through the clinic's relay, as they fall due: at most so many per
 * minute for all Carewall processes together (counted in the database), each target claimed with
 * SKIP LOCKED so two processes never send the same message. nodemailer speaks SMTP (TLS, AUTH).
 */
import nodemailer from 'nodemailer';
import type { Database, Queryable } from '../db/index.js';
import type { Catalogue } from './catalogue.js';
import { renderTemplate } from './library/render.js';
import type { PhishTemplate } from './library/types.js';
import { personFromJson, type Person } from './people.js';
import type { SmtpSettings } from './settings.js';

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** The relay's answer for one message: accepted, refused for good (bounced), or not now (deferred). */
export type SendOutcome = { status: 'accepted' } | { status: 'bounced'; code?: number } | { status: 'deferred'; code?: number | string };

export interface MailTransport {
  (message: OutgoingMessage): Promise<SendOutcome>;
  /** Ends the pooled connection (the server stopping). */
  close?: () => void;
}

export function smtpTransport(s: SmtpSettings): MailTransport {
  const transporter = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTls,
    ...(s.user ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
    tls: { rejectUnauthorized: s.verifyCertificate },
    // One connection reused for the batch: a relay counts connections per minute too.
    pool: true,
    maxConnections: 1,
  });
  const send: MailTransport = async (m) => {
    try {
      const info = await transporter.sendMail(m);
      return info.rejected.length > 0 ? { status: 'bounced' } : { status: 'accepted' };
    } catch (err) {
      const e = err as { responseCode?: number; code?: string };
      // 5xx at RCPT or DATA: the relay will never take it (an unknown mailbox). Anything else may pass.
      if (e.responseCode && e.responseCode >= 500) return { status: 'bounced', code: e.responseCode };
      return { status: 'deferred', code: e.responseCode ?? e.code };
    }
  };
  send.close = () => transporter.close();
  return send;
}

export interface Rendered {
  message: OutgoingMessage;
  template: PhishTemplate;
}

/** The message one person gets, with their own tracked link and pixel. */
export function renderFor(template: PhishTemplate, person: Person, token: string, trackingUrl: string): OutgoingMessage {
  const url = `${trackingUrl}/aw/c/${token}`;
  const pixel = `${trackingUrl}/aw/o/${token}`;
  const values = {
    FirstName: person.firstName,
    LastName: person.lastName,
    Email: person.email,
    Position: person.position,
    Department: person.department,
    URL: url,
    TrackingURL: pixel,
    RId: token,
    BaseURL: trackingUrl,
  };
  const fromName = renderTemplate(template.fromName, values, { html: false });
  const withFrom = { ...values, From: fromName };
  // {{.Tracker}} becomes the pixel, built by the renderer from TrackingURL.
  const html = renderTemplate(template.html, withFrom, { html: true });
  const text = renderTemplate(template.text, withFrom, { html: false });
  const fromAddress = renderTemplate(template.fromAddress, withFrom, { html: false });
  return {
    from: `"${fromName.replace(/["\\\r\n]/g, '')}" <${fromAddress}>`,
    to: person.email,
    subject: renderTemplate(template.subject, withFrom, { html: false }).replace(/[\r\n]/g, ' '),
    html,
    text,
  };
}

interface DueRow {
  target_id: string;
  campaign_id: string;
  template_id: string;
  token_sealed: Buffer;
  dry_run: boolean;
  deferrals: string;
  person: Record<string, unknown>;
}

export interface SendDeps {
  db: Database;
  catalogue: Catalogue;
  transport?: MailTransport;
  trackingUrl?: string;
  perMinute: number;
  openToken: (sealed: Buffer) => string;
}

/** Deferred this many times, a message is given up as bounced. */
const MAX_DEFERRALS = 5;

/** Sends what is due at `now`, within the per-minute limit. Returns how many messages were handled. */
export async function sendDue(deps: SendDeps, now: Date): Promise<number> {
  return deps.db.transaction(async (tx) => {
    const recent = await tx.query<{ n: string }>(`select count(*) as n from awareness_event where kind = 'sent' and at > $1`, [
      new Date(now.getTime() - 60_000),
    ]);
    const allowance = deps.perMinute - Number(recent.rows[0].n);
    if (allowance <= 0) return 0;
    const due = await tx.query<DueRow>(
      `select t.id as target_id, t.campaign_id, t.template_id, t.token_sealed, (c.plan->>'dryRun')::boolean as dry_run,
         (select count(*) from awareness_event e where e.target_id = t.id and e.kind = 'deferred') as deferrals, to_jsonb(p) as person
       from awareness_target t join awareness_campaign c on c.id = t.campaign_id join awareness_person p on p.id = t.person_id
       where t.sent_at is null and t.send_at <= $1 and c.state in ('scheduled', 'sending')
       order by t.send_at limit $2 for update of t skip locked`,
      [now, allowance],
    );
    for (const row of due.rows) await sendOne(tx, deps, row, now);
    await tx.query(
      `update awareness_campaign c set state = case when not exists (select 1 from awareness_target t where t.campaign_id = c.id and t.sent_at is null) then 'finished' else 'sending' end
       where c.id = any($1::text[]) and c.state in ('scheduled', 'sending')`,
      [[...new Set(due.rows.map((r) => r.campaign_id))]],
    );
    return due.rows.length;
  });
}

async function sendOne(tx: Queryable, deps: SendDeps, row: DueRow, now: Date): Promise<void> {
  const event = (kind: string, facts: object = {}) =>
    tx.query('insert into awareness_event (target_id, kind, at, facts) values ($1, $2, $3, $4)', [row.target_id, kind, now, JSON.stringify(facts)]);
  const template = await deps.catalogue.template(row.template_id, tx);
  const person = personFromJson(row.person);
  if (!template || !deps.trackingUrl) {
    // Nothing to send it with: recorded, never retried silently for ever.
    await event('bounced', { why: !template ? 'the template no longer exists' : 'no trackingUrl or publicUrl is set' });
    await tx.query('update awareness_target set sent_at = $2 where id = $1', [row.target_id, now]);
    return;
  }
  const message = renderFor(template, person, deps.openToken(row.token_sealed), deps.trackingUrl);
  if (row.dry_run) {
    await event('sent', { dryRun: true });
    await tx.query('update awareness_target set sent_at = $2 where id = $1', [row.target_id, now]);
    return;
  }
  if (!deps.transport) {
    await event('deferred', { why: 'no relay is configured (awareness.smtp)' });
    await tx.query(`update awareness_target set send_at = $2 where id = $1`, [row.target_id, new Date(now.getTime() + 5 * 60_000)]);
    return;
  }
  const outcome = await deps.transport(message);
  if (outcome.status === 'deferred' && Number(row.deferrals) + 1 < MAX_DEFERRALS) {
    await event('deferred', { code: outcome.code ?? null });
    await tx.query(`update awareness_target set send_at = $2 where id = $1`, [row.target_id, new Date(now.getTime() + 5 * 60_000)]);
    return;
  }
  await event('sent');
  await event(outcome.status === 'accepted' ? 'delivered' : 'bounced', outcome.status === 'accepted' ? {} : { code: outcome.code ?? null });
  await tx.query('update awareness_target set sent_at = $2 where id = $1', [row.target_id, now]);
}
