/**
 * Triage of a reported message: parse it, run every check, add up the reasons' weights into a
 * score, and read the verdict off two thresholds (docs/awareness.md, "Triage").
 */
import type { AddressObject, ParsedMail } from 'mailparser';
import { parseMail } from '../parseMail.js';
import { checkAttachments } from './attachments.js';
import { checkAuthentication } from './authentication.js';
import { registrableDomain } from './domains.js';
import { checkLinks, extractLinks, isFreeHosting, leadsElsewhere } from './links.js';
import { PHISHING_AT, reason, SUSPICIOUS_AT } from './reasons.js';
import { asksForPayment, checkLanguage, checkSender, isFreemail, showsExecutive } from './sender.js';
import { summarise } from './summary.js';
import { NotAMailMessage, type Reason, type TriageOptions, type TriageResult, type Verdict } from './types.js';

const LANGUAGE_CODES = new Set(['urgency-language', 'credential-lure']);

/**
 * Whether the bytes start with an RFC 822 header block naming at least one of From, Date or Subject.
 * Checked before parsing because a parser makes a "message" of anything (a PDF, a JSON file).
 */
export function looksLikeMail(raw: Buffer): boolean {
  const head = fromFirstHeader(raw)
    .subarray(0, 64 * 1024)
    .toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const block = end >= 0 ? head.slice(0, end) : head;
  if (!block || block.includes('\u0000')) return false;
  const lines = block.split(/\r?\n/);
  // Every line is a field ("Name: value") or the continuation of one (starting with white space).
  if (!/^[!-9;-~]+:/.test(lines[0])) return false;
  if (lines.some((l) => l !== '' && !/^[!-9;-~]+:/.test(l) && !/^[ \t]/.test(l))) return false;
  return lines.some((l) => /^(from|date|subject):/i.test(l));
}

/** The words of an HTML body, for the language checks (not for display: tags dropped, entities left). */
function htmlToText(html: string): string {
  return html
    .slice(0, 200_000)
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/[ \t]+/g, ' ');
}

function addresses(field: AddressObject | AddressObject[] | undefined): Array<{ name: string; address?: string }> {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.flatMap((v) => (v.group ? v.group : [v])));
}

function headerText(mail: ParsedMail, name: string): string[] {
  return mail.headerLines.filter((h) => h.key === name).map((h) => h.line.slice(h.line.indexOf(':') + 1).trim());
}

/** Drops what some tools put before the header block (a UTF-8 byte order mark, an mbox "From " line): the checks read from the first header. */
function fromFirstHeader(raw: Buffer): Buffer {
  let at = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  if (raw.subarray(at, at + 5).toString('latin1') === 'From ') {
    const eol = raw.indexOf(0x0a, at);
    at = eol < 0 ? raw.length : eol + 1;
  }
  return at === 0 ? raw : raw.subarray(at);
}

// "Scan the QR code", "scan the code below with your phone": a code the reader is asked to scan. Not "the
// code sent to your phone": one-time codes are typed, and their mails often carry a logo image.
const SCAN_REQUEST = /\bscan\b[^.\n]{0,40}\b(qr|code|barcode)\b|\bqr[- ]?codes?\b/i;

export async function triageMessage(input: Buffer, options: TriageOptions): Promise<TriageResult> {
  return judge(input, options, true);
}

async function judge(input: Buffer, options: TriageOptions, mayUnwrap: boolean): Promise<TriageResult> {
  const raw = fromFirstHeader(input);
  if (!looksLikeMail(raw)) throw new NotAMailMessage();
  const mail = await parseMail(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, maxHtmlLengthToParse: 2_000_000 });
  const trusted = [...new Set(options.domains.map((d) => registrableDomain(d.trim()) ?? d.trim().toLowerCase()).filter(Boolean))];
  const staff = options.staff ?? [];
  const staffDomains = staff.map((s) => registrableDomain(s.email.split('@').pop() ?? '')).filter((d): d is string => !!d);

  const from = addresses(mail.from)[0];
  const fromAddress = from?.address?.toLowerCase();
  const fromDomain = fromAddress ? registrableDomain(fromAddress.split('@').pop() ?? '') : undefined;
  const replyTo = addresses(mail.replyTo)
    .map((a) => a.address ?? '')
    .filter(Boolean);
  const returnPath = headerText(mail, 'return-path')[0]?.replace(/[<>]/g, '').trim();
  const received = headerText(mail, 'received');

  const auth = await checkAuthentication(raw, fromDomain, returnPath || fromAddress, received, { ...options, domains: trusted });
  // A report made by forwarding the suspicious message as an attachment (the report mailbox, the
  // CLI given a forwarded .eml): the attached message is what was reported, so it is what is judged.
  // Only from the clinic's own or a supplier's unspoofed domain, and only one level deep: an outsider
  // must not make a harmless attachment stand in for a harmful envelope.
  const inner = mail.attachments.find((a) => a.contentType === 'message/rfc822' || /\.eml$/i.test(a.filename ?? ''));
  if (
    mayUnwrap &&
    inner &&
    fromDomain &&
    [...trusted, ...staffDomains].includes(fromDomain) &&
    !auth.fromFailed &&
    looksLikeMail(fromFirstHeader(inner.content))
  ) {
    const judged = await judge(inner.content, options, false);
    const reasonsInner = [reason('attached-message-judged'), ...judged.reasons];
    return { ...judged, reasons: reasonsInner };
  }
  const reasons: Reason[] = [...auth.reasons];
  if (fromDomain && trusted.includes(fromDomain)) {
    if (auth.fromFailed) reasons.push(reason('spoofed-known-domain'));
    else if (auth.fromAuthenticated) reasons.push(reason('known-sender-authenticated'));
  }
  const listId = /<([^>]+)>/.exec(headerText(mail, 'list-id')[0] ?? '')?.[1];
  const listDomain = listId ? registrableDomain(listId) : undefined;
  const sender = checkSender(
    { fromAddress, fromName: from?.name, fromHeader: headerText(mail, 'from')[0], fromDomain, replyTo, listDomain, fromAuthenticated: auth.fromAuthenticated },
    trusted,
    staff,
  );
  reasons.push(...sender);

  const html = typeof mail.html === 'string' ? mail.html : undefined;
  // A calendar invitation's description and URL are read like the body: the link an invitation carries is clicked from the calendar.
  const calendars = mail.attachments
    .filter((a) => /^text\/calendar\b/i.test(a.contentType) || /\.ics$/i.test(a.filename ?? ''))
    .map((a) =>
      a.content
        .toString('utf8')
        .replace(/\r?\n[ \t]/g, '')
        .replace(/\\n/g, '\n')
        .replace(/\\([,;\\])/g, '$1'),
    );
  const links = extractLinks(html, [mail.text ?? '', ...calendars].join('\n'));
  reasons.push(...checkLinks(links, trusted, auth.fromAuthenticated));
  if (html && /<form\b/i.test(html)) reasons.push(reason('html-form'));

  // A body sent only as HTML (multipart/related with images) has no text part: its words are read from the HTML.
  const text = mail.text ?? (html ? htmlToText(html) : '');
  const bodyText = [text, ...calendars].join('\n');
  const attachments = checkAttachments(
    mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    bodyText,
  );
  reasons.push(...attachments.reasons);
  const language = checkLanguage(mail.subject ?? '', bodyText);
  reasons.push(...language);
  const lure = language.some((r) => r.code === 'credential-lure');
  if (lure && leadsElsewhere(links, fromDomain, auth.fromAuthenticated)) {
    reasons.push(reason('lure-link-elsewhere'));
  }
  if (lure && links.some((l) => isFreeHosting(l.href, l.host) && registrableDomain(l.host) !== fromDomain)) reasons.push(reason('lure-free-hosting'));
  const images = mail.attachments.some((a) => /^image\//i.test(a.contentType));
  if (lure && images && SCAN_REQUEST.test(`${mail.subject ?? ''}\n${bodyText}`)) reasons.push(reason('qr-code-lure'));
  // BEC: an address anyone can open, a name with authority, money asked for, and nothing to click or open.
  const authority = sender.some((r) => r.code === 'display-name-staff') || (!!from?.name && showsExecutive(from.name));
  if (isFreemail(fromDomain) && authority && links.length === 0 && mail.attachments.length === 0 && asksForPayment(mail.subject ?? '', bodyText)) {
    reasons.push(reason('bec-payment-request'));
  }

  const score = reasons.reduce((sum, r) => sum + r.weight, 0);
  // Language alone never makes a verdict: without any other positive finding it is not counted.
  const strong = reasons.some((r) => r.weight > 0 && !LANGUAGE_CODES.has(r.code));
  const verdict: Verdict = strong && score >= PHISHING_AT ? 'phishing' : strong && score >= SUSPICIOUS_AT ? 'suspicious' : 'clean';

  const recipients = [...addresses(mail.to), ...addresses(mail.cc)];
  const summary = summarise({
    fromAddress,
    fromDomain,
    subject: mail.subject,
    messageId: mail.messageId,
    recipientNames: recipients.flatMap((r) => [r.name, r.address?.split('@')[0] ?? '']),
    links,
    attachments: attachments.summaries,
  });
  return { verdict, triagedAt: (options.now ?? new Date()).toISOString(), score, reasons, authentication: auth.summary, summary };
}
