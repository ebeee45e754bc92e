/**
 * Where else a reported message sits: the security administrator searches every member of staff's
 * mailbox by sender, subject or link, and gets a list (mailbox, date, sender, subject): whom it
 * reached, and so whom to warn. Removing the copies is the mail system's job and stays out of
 * Carewall. The mail server opens each mailbox for an administrator account (Dovecot's master user:
 * SASL PLAIN with the mailbox as authorisation identity; imapflow speaks it), read-only.
 */
import type { SearchObject } from 'imapflow';
import type { MailboxSearchSettings } from './settings.js';

export interface MailboxHit {
  mailbox: string;
  date?: string;
  from?: string;
  subject?: string;
}

export interface SearchFilter {
  sender?: string;
  subject?: string;
  link?: string;
}

/** Mailboxes searched at once: a mail server limits an account's parallel logins. */
const AT_ONCE = 4;
/** Matches listed per mailbox, at most: enough to see it arrived, not a copy of the mailbox. */
const PER_MAILBOX = 20;

async function searchOne(settings: MailboxSearchSettings, mailbox: string, filter: SearchFilter): Promise<MailboxHit[]> {
  // Loaded on first use (about 200 ms): only an installation with a report mailbox needs it.
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    auth: { user: settings.masterUser, pass: settings.password ?? '', authzid: mailbox, loginMethod: 'AUTH=PLAIN' },
    tls: { rejectUnauthorized: settings.verifyCertificate },
    logger: false,
  });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const query: SearchObject = {};
    if (filter.sender) query.from = filter.sender;
    if (filter.subject) query.subject = filter.subject;
    if (filter.link) query.body = filter.link;
    const uids = (await client.search(query, { uid: true })) || [];
    const hits: MailboxHit[] = [];
    for (const uid of uids.slice(-PER_MAILBOX)) {
      const m = await client.fetchOne(String(uid), { envelope: true }, { uid: true });
      if (!m) continue;
      hits.push({
        mailbox,
        ...(m.envelope?.date ? { date: new Date(m.envelope.date).toISOString() } : {}),
        ...(m.envelope?.from?.[0]?.address ? { from: m.envelope.from[0].address } : {}),
        ...(m.envelope?.subject ? { subject: m.envelope.subject } : {}),
      });
    }
    return hits;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** Every mailbox's matching messages; a mailbox that could not be opened is counted, never fatal. */
export async function searchMailboxes(
  settings: MailboxSearchSettings,
  mailboxes: string[],
  filter: SearchFilter,
): Promise<{ hits: MailboxHit[]; searched: number; failed: number }> {
  const hits: MailboxHit[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < mailboxes.length) {
      const mailbox = mailboxes[next++];
      try {
        hits.push(...(await searchOne(settings, mailbox, filter)));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, mailboxes.length) }, worker));
  hits.sort((a, b) => a.mailbox.localeCompare(b.mailbox) || (a.date ?? '').localeCompare(b.date ?? ''));
  return { hits, searched: mailboxes.length - failed, failed };
}
