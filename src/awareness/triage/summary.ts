/**
 * What a report is found by: sender, subject, links, attachments, Message-ID, and a fingerprint that
 * several staff members' copies of one campaign share. Campaigns vary per recipient (a name, an
 * invoice number, a tracking token in each link), so the fingerprint keeps only what they do not
 * vary: the sender's domain, the subject with digits and the recipient's names folded away, and the
 * sorted hosts the links lead to, and the kinds of attachments. The body is left out: it carries per-recipient tokens.
 */
import { createHash } from 'node:crypto';
import type { AttachmentSummary, TriageSummary } from './types.js';
import type { Link } from './links.js';

export interface SummaryInput {
  fromAddress?: string;
  fromDomain?: string;
  subject?: string;
  messageId?: string;
  /** Names of the recipients (display names and mailbox parts), folded out of the subject. */
  recipientNames: string[];
  links: Link[];
  attachments: AttachmentSummary[];
}

export function normaliseSubject(subject: string, recipientNames: string[]): string {
  let s = subject.normalize('NFKC').toLowerCase();
  // Reply and forward prefixes are added by whoever passed it on, not by the campaign.
  s = s.replace(/^\s*((re|fw|fwd|aw|wg|tr|sv|vs)\s*(\[\d+\])?\s*:\s*)+/i, '');
  s = s.replace(/^\s*\[[^\]]*\]\s*/, ''); // a list's or a scanner's tag ("[EXTERNAL]")
  for (const name of recipientNames) {
    for (const part of name.toLowerCase().split(/[^\p{L}]+/u)) {
      if (part.length >= 3) s = s.replaceAll(part, '{name}');
    }
  }
  return s
    .replace(/[0-9a-f]{8,}/g, '#') // hex identifiers
    .replace(/\d+([.,/:-]\d+)*/g, '#')
    .replace(/[^\p{L}#{}]+/gu, ' ')
    .trim();
}

/** The attachments' extensions, sorted: their names and bytes often carry per-recipient numbers. */
function attachmentKinds(attachments: AttachmentSummary[]): string[] {
  return attachments.map((a) => /\.([a-z0-9]{1,10})$/i.exec(a.filename)?.[1].toLowerCase() ?? a.contentType).sort();
}

export function summarise(input: SummaryInput): TriageSummary {
  const links = [...new Set(input.links.map((l) => l.href))].sort();
  const linkHosts = [...new Set(input.links.map((l) => l.host))].sort();
  const subject = normaliseSubject(input.subject ?? '', input.recipientNames);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([input.fromDomain ?? '', subject, linkHosts, attachmentKinds(input.attachments)]))
    .digest('hex');
  return {
    from: input.fromAddress,
    fromDomain: input.fromDomain,
    subject: input.subject,
    messageId: input.messageId,
    links,
    linkHosts,
    attachments: input.attachments,
    fingerprint,
  };
}
