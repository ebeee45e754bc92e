/**
 * The notifications privacy officers read (break-the-glass, alarms, alerts: written by
 * AccessGrants.announce), and how far each reader has read them. One reader's marks are nobody
 * else's, and a mark never moves backwards: what arrived after the newest one shown stays new.
 */
import type { Queryable } from '../db/index.js';
import { FhirError } from '../shared/index.js';

export interface NotificationPage {
  notifications: Array<{ id: string; at: string; kind: string; grant: string | null; message: string; read: boolean }>;
  unread: number;
}

/** The latest 200, newest first, each read or not by this reader; and how many are unread. */
export async function forReader(q: Queryable, accountId: string): Promise<NotificationPage> {
  const upTo = await readUpTo(q, accountId);
  const r = await q.query<{ id: string; created_at: Date; kind: string; grant_id: string | null; message: string }>(
    `select id::text as id, created_at, kind, grant_id, message from access_notification order by id desc limit 200`,
  );
  const unread = await q.query<{ n: number }>('select count(*)::int as n from access_notification where id > $1', [upTo]);
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

/** Everything up to `upTo` (the id of a notification the reader was shown) is read. */
export async function markRead(q: Queryable, accountId: string, upTo: unknown): Promise<void> {
  if (typeof upTo !== 'string' || !/^\d{1,15}$/.test(upTo)) throw new FhirError(400, 'invalid', 'upTo must be the id of a notification');
  const exists = await q.query('select 1 from access_notification where id = $1', [upTo]);
  if (exists.rows.length === 0) throw new FhirError(400, 'invalid', 'upTo must be the id of a notification');
  await q.query(
    `insert into access_notification_read (account_id, read_up_to) values ($1, $2)
     on conflict (account_id) do update set read_up_to = greatest(access_notification_read.read_up_to, excluded.read_up_to)`,
    [accountId, upTo],
  );
}

async function readUpTo(q: Queryable, accountId: string): Promise<number> {
  const r = await q.query<{ n: string }>('select read_up_to::text as n from access_notification_read where account_id = $1', [accountId]);
  return r.rows[0] ? Number(r.rows[0].n) : 0;
}
