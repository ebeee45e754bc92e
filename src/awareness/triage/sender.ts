/**
 * Who the message claims to be from: the sender's domain against the trusted ones, the display name
 * against the staff and the trusted organisations, and where replies would go.
 */
import { hasHiddenCharacters, withoutHiddenCharacters } from './archives.js';
import { isMixedScript, isPunycode, lookalikeOf, registrableDomain } from './domains.js';
import { reason, type ReasonCode } from './reasons.js';
import type { Reason, StaffMember } from './types.js';

// Free mail services: an organisation's mail whose replies go there is a classic fraud set-up.
const FREEMAIL = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'yahoo.co.uk',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'aol.com',
  'icloud.com',
  'me.com',
  'mail.com',
  'gmx.com',
  'gmx.net',
  'gmx.de',
  'web.de',
  'proton.me',
  'protonmail.com',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'zoho.com',
  't-online.de',
  'orange.fr',
  'libero.it',
]);

export function isFreemail(domain: string | undefined): boolean {
  return !!domain && FREEMAIL.has(domain);
}

// Offices that carry authority over payments: with a staff member's surname, enough to name them. Academic
// titles alone are not (a clinic corresponds daily with other practices' "Dr. Brandt").
const EXECUTIVE = /\b(director|ceo|cfo|coo|chief|president|chair(man|woman|person)?|head of|managing partner|executive)\b/i;

/** A display name presenting an executive ("Medical Director", "CEO", "Head of Finance"). */
export function showsExecutive(display: string): boolean {
  return EXECUTIVE.test(withoutHiddenCharacters(display));
}

// The functions inside an organisation that staff obey without asking: shown by mail from outside, an impersonation.
const INTERNAL_ROLE =
  /\b(it[- ]?(support|service|department|team|security|helpdesk|help desk)|service ?desk|help ?desk|(mail|email|e-mail|system|mailbox|network)[- ]?(admin|administrator|administration)|postmaster|webmaster|hr[- ]?(department|team)|human resources|payroll)\b/i;

/**
 * Services whose names phishing borrows most, with the registrable domains they really send from. The
 * name shown from any other domain is an impersonation (their own notifications pass this check).
 */
const SERVICE_BRANDS: Array<[RegExp, string[]]> = [
  // Names that are also ordinary words ("Health Outlook", "sales teams", a UPS power supply) only in their service's form.
  [
    /\b(microsoft|office ?365|onedrive|sharepoint|outlook (web|team|support)|outlook\.com)\b/i,
    ['microsoft.com', 'office.com', 'office365.com', 'outlook.com', 'sharepointonline.com', 'microsoftonline.com', 'live.com'],
  ],
  [/\bdocusign\b/i, ['docusign.net', 'docusign.com']],
  [/\bdropbox\b/i, ['dropbox.com', 'dropboxmail.com']],
  [/\badobe\b/i, ['adobe.com', 'adobesign.com']],
  [/\bpaypal\b/i, ['paypal.com', 'paypal.de', 'paypal.co.uk']],
  [/\b(dhl)\b/i, ['dhl.com', 'dhl.de']],
  [/\bfedex\b/i, ['fedex.com']],
  [/\bamazon\b/i, ['amazon.com', 'amazon.de', 'amazon.co.uk', 'amazonses.com']],
  [/\bapple (id|support)\b|\bicloud\b/i, ['apple.com', 'icloud.com']],
  [/\b(google|gmail|google drive)\b/i, ['google.com', 'gmail.com', 'googlemail.com']],
  [/\bwetransfer\b/i, ['wetransfer.com']],
  [/\bzoom\b/i, ['zoom.us', 'zoom.com']],
  [/\blinkedin\b/i, ['linkedin.com']],
];

export interface SenderFacts {
  fromAddress?: string;
  fromName?: string;
  fromDomain?: string;
  replyTo: string[];
  /** The registrable domain of the List-Id, for mail from a mailing list (whose replies go to the list). */
  listDomain?: string;
  /** The From header as written: a display name's (comment) is dropped by the parser but shown by mail clients. */
  fromHeader?: string;
  /** The From domain is authenticated (DMARC pass or aligned). */
  fromAuthenticated?: boolean;
}

/** Lower case letters and digits only, accents dropped: "Dr. Anna-Maria Keller" → annamariakeller. */
function squash(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

function nameTokens(s: string): string[] {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((t) => t.length >= 2 && !['dr', 'prof', 'mr', 'mrs', 'ms', 'md', 'phd', 'rn', 'von', 'van', 'der', 'de'].includes(t));
}

/** A staff member's name shown in full (first and last name, in either order, titles ignored). */
function showsStaffName(display: string, staff: StaffMember): boolean {
  const wanted = nameTokens(staff.name);
  if (wanted.length < 2) return false;
  const shown = new Set(nameTokens(display));
  if (wanted.every((t) => shown.has(t))) return true;
  // "Keller (Medical Director)", "CEO Keller": the surname with an office names the person as well.
  const surname = wanted[wanted.length - 1];
  return surname.length >= 4 && shown.has(surname) && showsExecutive(display);
}

/**
 * "Maria Lopez via DocuSign", "Thomas Brandt (via SharePoint Online)": a signing or sharing service
 * names the person who used it. Not an impersonation when the mail comes, authenticated, from that
 * service's own domain; the same words from any other domain are still judged as a staff name.
 */
function sentViaService(display: string, fromDomain: string | undefined, fromAuthenticated: boolean | undefined): boolean {
  const via = /\bvia\s+([^)"]+)/i.exec(display)?.[1];
  if (!via || !fromDomain || !fromAuthenticated) return false;
  return SERVICE_BRANDS.some(([name, domains]) => name.test(via) && domains.includes(fromDomain));
}

export function checkSender(facts: SenderFacts, trusted: string[], staff: StaffMember[]): Reason[] {
  const found = new Set<ReasonCode>();
  const { fromDomain, fromAddress = '' } = facts;
  // What a reader sees: invisible characters are reported, then dropped before the name is compared.
  if (facts.fromName && hasHiddenCharacters(facts.fromName)) found.add('hidden-characters');
  const fromName = withoutHiddenCharacters(facts.fromName ?? '');
  const staffDomains = staff.map((s) => registrableDomain(s.email.split('@').pop() ?? '')).filter((d): d is string => !!d);
  const ownDomains = [...new Set([...trusted, ...staffDomains])];
  const fromOutside = !fromDomain || !ownDomains.includes(fromDomain);

  if (fromDomain) {
    if (lookalikeOf(fromAddress.split('@').pop() || fromDomain, ownDomains)) found.add('lookalike-sender-domain');
    const host = fromAddress.split('@').pop() ?? '';
    if (isPunycode(host)) found.add('punycode-sender-domain');
    if (isMixedScript(host)) found.add('mixed-script-domain');
  }

  for (const r of facts.replyTo) {
    const d = registrableDomain(r.split('@').pop() ?? '');
    // Replies into the clinic's or a supplier's own domain reach no outsider: not a diversion.
    if (!d || d === fromDomain || d === facts.listDomain || ownDomains.includes(d)) continue;
    found.add('reply-to-mismatch');
    if (FREEMAIL.has(d) && fromDomain && !FREEMAIL.has(fromDomain)) found.add('reply-to-freemail');
  }

  if (fromName && fromOutside) {
    const viaService = [fromName, facts.fromHeader ?? ''].some((shown) =>
      sentViaService(shown.replace(/<[^>]*>\s*$/, '').trim(), fromDomain, facts.fromAuthenticated),
    );
    if (!viaService && staff.some((s) => s.email.toLowerCase() !== fromAddress.toLowerCase() && showsStaffName(fromName, s))) found.add('display-name-staff');
    const shownAddresses = fromName.match(/[^\s<>"'@]+@[a-z0-9.-]+\.[a-z]{2,}/gi) ?? [];
    if (shownAddresses.some((a) => registrableDomain(a.split('@').pop() ?? '') !== fromDomain)) found.add('display-name-address');
    if (INTERNAL_ROLE.test(fromName)) found.add('display-name-internal-role');
    if (fromDomain && SERVICE_BRANDS.some(([name, domains]) => name.test(fromName) && !domains.includes(fromDomain))) found.add('display-name-service');
    // "St Mary's Clinic IT", "MedSupply Billing": the organisation's name shown, its domain not used.
    const squashed = squash(fromName);
    const brands = ownDomains.map((d) => squash(d.split('.')[0])).filter((b) => b.length >= 6);
    if (brands.some((b) => squashed.includes(b)) || ownDomains.some((d) => fromName.toLowerCase().includes(d))) found.add('display-name-brand');
  }
  return [...found].map(reason);
}

const URGENCY = [
  /\burgent(ly)?\b/i,
  /\bimmediate(ly)?\b/i,
  /\bwithin (24|48|12) hours\b/i,
  /\b(today|now) or\b/i,
  /\bfinal (notice|warning|reminder)\b/i,
  // About the reader's account or access, not any use of the words ("disabled parking", "termination of pregnancy").
  /\b(account|mailbox|access|password|e-?mail)\b[^.\n]{0,40}\b(suspended|deactivated|disabled|locked|closed|terminated|blocked)\b/i,
  /\b(expire[sd]?|expiring|expiration) (today|soon|in)\b/i,
  /\baction required\b/i,
  /\bas soon as possible\b|\basap\b/i,
];
const LURE = [
  /\bverify (your|the) (account|identity|mailbox|email|credentials|password|login)\b/i,
  /\b(confirm|update|validate|re-?enter|reset) (your|the) (password|credentials|account|login|details)\b/i,
  /\b(sign|log) ?in (to|now|here|below)\b/i,
  /\bpassword (expires|will expire|has expired|expiry)\b/i,
  /\b(unusual|suspicious) (sign-?in|login|activity)\b/i,
  /\bmailbox (is )?(full|quota|storage)\b/i,
  /\b(gift ?cards?|wire transfer|bank details have changed|new bank account)\b/i,
  // A changed account to pay into, however it is worded: "our bank account has changed", "update our remittance details", "new IBAN".
  /\b(bank|banking|remittance|payment)\s+(account|details|information|data)\b[^.\n]{0,60}\b(changed|updated?|new|migrat\w*)\b/i,
  /\b(updated?|changed?|new)\s+(our\s+)?(bank|banking|remittance|payment)\s+(account|details|information)\b|\bnew iban\b/i,
  /\b(sign|log) ?in with your\b[^.\n]{0,30}\baccount\b|\bsign in to (view|access|open|read)\b/i,
  /\b(validate|verify|confirm) your\b[^.\n]{0,20}\b(account|mailbox|identity|details|credentials)\b/i,
  /\b(re-?authenticate|re-?validate)\b/i,
];

/** Pressure and credential lures: weak evidence (legitimate mail uses the same words), one point each at most. */
export function checkLanguage(subject: string, text: string): Reason[] {
  const all = `${subject}\n${text}`.slice(0, 20_000);
  const found: Reason[] = [];
  if (URGENCY.some((r) => r.test(all))) found.push(reason('urgency-language'));
  if (LURE.some((r) => r.test(all))) found.push(reason('credential-lure'));
  return found;
}

// Money leaving: what BEC asks for. Ordinary words of accounts payable, so only ever counted with the sender findings of bec-payment-request.
const PAYMENT = /\b(gift ?cards?|wire( transfer)?|bank transfer|transfer of|payment|pay (the|this|a)|invoice|iban|beneficiary|vendor|remittance)\b/i;

export function asksForPayment(subject: string, text: string): boolean {
  return PAYMENT.test(`${subject}\n${text}`.slice(0, 20_000));
}
