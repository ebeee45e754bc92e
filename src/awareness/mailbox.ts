/**
 * The "report phishing" mailbox, read over IMAP with imapflow. Staff report in one of two ways:
 *  - forwarding the message as an attachment to the report address (Outlook's and Thunderbird's
 *    "forward as attachment", most report buttons): the reporter is the forward's sender; a message
 *    forwarded inline is judged as it arrived, which still finds a simulation's links;
 *  - moving it into a shared folder (`sharedFolder`) that everyone may put messages in and only the
 *    report mailbox reads: the message is the original, and the reporter is the mailbox it was
 *    delivered to (Delivered-To, written by the delivering server, not by the sender).
 * Each message is handled once: it is flagged \Seen after its report is stored, so a crash in
 * between reports it again rather than never (a duplicate report is harmless, a lost one is not).
 */

import { parseMail } from './parseMail.js';
import type { MailboxSettings } from './settings.js';

/** The reported message and who reported it, from what arrived in the report mailbox. */
export async function unwrapReport(raw: Buffer, moved = false): Promise<{ reporter: string; reported: Buffer } | undefined> {
  const parsed = await parseMail(raw, { skipImageLinks: true, skipTextToHtml: true });
  if (moved) {
    // mailparser gives an address header as an object ({ value, text }), an unknown one as a string.
    const delivered = parsed.headers.get('delivered-to') as unknown;
    const first = Array.isArray(delivered) ? delivered[0] : delivered;
    const text =
      typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? (Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.text);
    const reporter = /[^\s<>"]+@[^\s<>"]+/.exec(text ?? '')?.[0]?.toLowerCase();
    return reporter ? { reporter, reported: raw } : undefined;
  }
  const reporter = parsed.from?.value[0]?.address?.toLowerCase();
  if (!reporter) return undefined;
  const attached = parsed.attachments.find((a) => a.contentType === 'message/rfc822' || /\.eml$/i.test(a.filename ?? ''));
  return { reporter, reported: attached ? attached.content : raw };
}

export async function pollReportMailbox(settings: MailboxSettings, handle: (reporter: string, raw: Buffer) => Promise<void>): Promise<number> {
  // Loaded on first use (about 200 ms): only an installation with a report mailbox needs it.
  const { ImapFlow } = await import('imapflow');
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
    for (const folder of ['INBOX', ...(settings.sharedFolder ? [settings.sharedFolder] : [])]) {
      const lock = await client.getMailboxLock(folder);
      try {
        const unseen = await client.search({ seen: false }, { uid: true });
        for (const uid of unseen || []) {
          const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
          if (!message || !message.source) continue;
          const report = await unwrapReport(message.source, folder !== 'INBOX');
          if (report) await handle(report.reporter, report.reported);
          await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
          handled++;
        }
      } finally {
        lock.release();
      }
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
  return handled;
}
