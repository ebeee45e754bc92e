/**
 * Who the message claims to be from: the sender's domain against the trusted ones, the display name
 * against the staff and the trusted organisations, and where replies would go.
 */
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

export interface SenderFacts {
  fromAddress?: string;
  fromName?: string;
  fromDomain?: string;
  replyTo: string[];
  /** The registrable domain of the List-Id, for mail from a mailing list (whose replies go to the list). */
  listDomain?: string;
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
  return wanted.every((t) => shown.has(t));
}

export function checkSender(facts: SenderFacts, trusted: string[], staff: StaffMember[]): Reason[] {
  const found = new Set<ReasonCode>();
  const { fromDomain, fromName = '', fromAddress = '' } = facts;
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
    if (!d || d === fromDomain || d === facts.listDomain) continue;
    found.add('reply-to-mismatch');
    if (FREEMAIL.has(d) && fromDomain && !FREEMAIL.has(fromDomain)) found.add('reply-to-freemail');
  }

  if (fromName && fromOutside) {
    if (staff.some((s) => s.email.toLowerCase() !== fromAddress.toLowerCase() && showsStaffName(fromName, s))) found.add('display-name-staff');
    const shownAddresses = fromName.match(/[^\s<>"'@]+@[a-z0-9.-]+\.[a-z]{2,}/gi) ?? [];
    if (shownAddresses.some((a) => registrableDomain(a.split('@').pop() ?? '') !== fromDomain)) found.add('display-name-address');
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
];

/** Pressure and credential lures: weak evidence (legitimate mail uses the same words), one point each at most. */
export function checkLanguage(subject: string, text: string): Reason[] {
  const all = `${subject}\n${text}`.slice(0, 20_000);
  const found: Reason[] = [];
  if (URGENCY.some((r) => r.test(all))) found.push(reason('urgency-language'));
  if (LURE.some((r) => r.test(all))) found.push(reason('credential-lure'));
  return found;
}
