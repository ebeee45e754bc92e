/**
 * What privacy officers are told (a break-the-glass or investigation opened, an account suspended
 * for mass changes, a ransomware alarm, a monitor alert, an equipment release or advisory, reported
 * phishing): kept as the in-app list the console shows, written to the log as a warning, and sent to
 * the configured webhooks. None of them names a patient; the message is the sender's and must not.
 *
 * Each reader marks how far they have read: one reader's marks are nobody else's, and a mark never
 * moves backwards, so what arrived after the newest one shown stays new.
 */
import type { Database, Queryable } from '../db/index.js';
import type { Logger } from '../log.js';
import { FhirError, type Who } from '../shared/index.js';
import type { Webhooks } from './webhooks.js';

export interface NotificationPage {
  notifications: Array<{ id: string; at: string; kind: string; grant: string | null; message: string; read: boolean }>;
  unread: number;
}

/** Tells privacy officers something: what kind, what it is about (a grant, an alert, a capability), and the words. */
export type NotifyOfficers = (kind: string, ref: string, message: string) => Promise<void>;

/** The kinds of notification that are access grants: their webhook payload names the grant. */
const GRANT_KINDS = new Set(['break-glass', 'investigation']);

export class Notices {
  /**
   * `mayRead` throws unless the caller may read privacy officers' notifications; given by the
   * composition root (the access rules' `access.review`), so this capability imports no other's.
   */
  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly webhooks: Webhooks,
    private readonly mayRead: (who: Who) => void,
  ) {}

  /** In-app list, a warning in the log, and the webhooks (delivered beside the caller, retried with back-off). */
  readonly send: NotifyOfficers = async (kind, ref, message) => {
    await this.db.query(`insert into notify_notice (audience, kind, grant_id, message) values ('privacy-officer', $1, $2, $3)`, [kind, ref, message]);
    const isGrant = GRANT_KINDS.has(kind);
    this.log.warn({ grant: ref, kind }, isGrant ? 'access grant opened: privacy officers notified' : 'privacy officers notified');
    // A slow receiver must not hold up an emergency: send returns at once.
    this.webhooks.send(isGrant ? { type: 'carewall.access-grant', grant: ref, message } : { type: `carewall.${kind}`, ref, message });
  };

  /** The latest 200, newest first, each read or not by this reader; and how many are unread. */
  async forReader(who: Who): Promise<NotificationPage> {
    this.mayRead(who);
    const upTo = await readUpTo(this.db, who.accountId);
    const r = await this.db.query<{ id: string; created_at: Date; kind: string; grant_id: string | null; message: string }>(
      `select id::text as id, created_at, kind, grant_id, message from notify_notice order by id desc limit 200`,
    );
    const unread = await this.db.query<{ n: number }>('select count(*)::int as n from notify_notice where id > $1', [upTo]);
    return {
      notifications: r.rows.map((n) => ({
        id: n.id,
        at: new Date(n.created_at).toISOString(),
        kind: n.kind,
        grant: n.grant_id,
        message: n.message,
        read: Number(n.id) <= upTo,
      })),
      unread: unread.rows[0].n,
    };
  }

  /** Everything up to `upTo` (the id of a notification the reader was shown) is read; never backwards, never anyone else's. */
  async markRead(who: Who, upTo: unknown): Promise<void> {
    this.mayRead(who);
    if (typeof upTo !== 'string' || !/^\d{1,15}$/.test(upTo)) throw new FhirError(400, 'invalid', 'upTo must be the id of a notification');
    const exists = await this.db.query('select 1 from notify_notice where id = $1', [upTo]);
    if (exists.rows.length === 0) throw new FhirError(400, 'invalid', 'upTo must be the id of a notification');
    await this.db.query(
      `insert into notify_read (account_id, read_up_to) values ($1, $2)
       on conflict (account_id) do update set read_up_to = greatest(notify_read.read_up_to, excluded.read_up_to)`,
      [who.accountId, upTo],
    );
  }
}

async function readUpTo(q: Queryable, accountId: string): Promise<number> {
  const r = await q.query<{ n: string }>('select read_up_to::text as n from notify_read where account_id = $1', [accountId]);
  return r.rows[0] ? Number(r.rows[0].n) : 0;
}
