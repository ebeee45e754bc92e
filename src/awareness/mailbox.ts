/**
 * The "report phishing" mailbox, read over IMAP with imapflow. Staff report by forwarding the
 * message as an attachment (what Outlook's and Thunderbird's "forward as attachment" and most report
 * buttons do); a message forwarded inline is judged as it arrived, which still finds a simulation's
 * links. Each message is handled once: it is flagged \Seen after its report is stored, so a crash in
 * between reports it again rather than never (a duplicate report is harmless, a lost one is not).
 */
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import type { MailboxSettings } from './settings.js';

/** The reported message and who reported it, from what arrived in the report mailbox. */
export async function unwrapReport(raw: Buffer): Promise<{ reporter: string; reported: Buffer } | undefined> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
  const reporter = parsed.from?.value[0]?.address?.toLowerCase();
  if (!reporter) return undefined;
  const attached = parsed.attachments.find((a) => a.contentType === 'message/rfc822' || /\.eml$/i.test(a.filename ?? ''));
  return { reporter, reported: attached ? attached.content : raw };
}

export async function pollReportMailbox(settings: MailboxSettings, handle: (reporter: string, raw: Buffer) => Promise<void>): Promise<number> {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    auth: { user: settings.user, pass: settings.password ?? '' },
    tls: { rejectUnauthorized: settings.verifyCertificate },
    // imapflow logs every command by default, message contents included: never.
    logger: false,
  });
  await client.connect();
  let handled = 0;
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const unseen = await client.search({ seen: false }, { uid: true });
      for (const uid of unseen || []) {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (!message || !message.source) continue;
        const report = await unwrapReport(message.source);
        if (report) await handle(report.reporter, report.reported);
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        handled++;
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
  return handled;
}
