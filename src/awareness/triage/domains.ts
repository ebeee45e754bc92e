/**
 * Domain comparisons: a host's registrable domain (tldts, the Public Suffix List), and whether a
 * domain imitates one the clinic trusts. Imitations come in a few kinds that attackers register
 * cheaply: a character swapped or dropped (edit distance), characters that look alike (l/1, o/0,
 * rn/m, Cyrillic а/a: a "skeleton" that folds them), the trusted name with words added
 * (stmarys-clinic-secure.com), or the same name under another suffix (stmarys-clinic.com).
 */
import { domainToUnicode } from 'node:url';
import { parse } from 'tldts';

/** The registrable domain (example.co.uk for mail.example.co.uk), lower case, or undefined for IPs and non-domains. */
export function registrableDomain(host: string): string | undefined {
  const r = parse(host.toLowerCase().replace(/\.$/, ''), { allowPrivateDomains: false });
  if (r.isIp || !r.domain || !r.isIcann) return undefined;
  return r.domain;
}

/** The registrable domain without its public suffix (stmarys-clinic for stmarys-clinic.org). */
function nameOf(domain: string): string {
  const r = parse(domain);
  return r.domainWithoutSuffix ?? domain.split('.')[0];
}

/** An internationalised name, as punycode (xn--) or already decoded (parsers decode addresses). */
export function isPunycode(host: string): boolean {
  return (
    /[^ -~]/.test(host) ||
    host
      .toLowerCase()
      .split('.')
      .some((label) => label.startsWith('xn--'))
  );
}

/**
 * A label that mixes Latin letters with Cyrillic or Greek ones (medsupрly), or is written wholly in
 * Cyrillic or Greek letters that all look Latin (аррӏе): browsers show such names as punycode for
 * that reason. Genuine internationalised names (müller.de, почта.рф) are neither.
 */
export function isMixedScript(host: string): boolean {
  const unicode = domainToUnicode(host.toLowerCase()) || host.toLowerCase();
  const labels = unicode.split('.');
  const tld = labels[labels.length - 1] ?? '';
  return labels.slice(0, -1).some((label) => {
    const foreign = label.match(/[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]/g) ?? [];
    if (foreign.length === 0) return false;
    if (/[a-z]/.test(label)) return true;
    return /^[a-z]+$/.test(tld) && foreign.every((ch) => ch in CONFUSABLE);
  });
}

// Characters that read as another in a mail client's font. Latin look-alikes from Cyrillic and
// Greek are what IDN homograph attacks use; digit-for-letter and letter pairs are the ASCII kind.
const CONFUSABLE: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  к: 'k',
  м: 'm',
  т: 't',
  в: 'b',
  н: 'h',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  τ: 't',
  ι: 'i',
  κ: 'k',
  υ: 'u',
  ε: 'e',
  ɡ: 'g',
  ı: 'i',
  ł: 'l',
  ß: 'ss',
  à: 'a',
  á: 'a',
  â: 'a',
  ä: 'a',
  å: 'a',
  è: 'e',
  é: 'e',
  ê: 'e',
  ë: 'e',
  ì: 'i',
  í: 'i',
  î: 'i',
  ï: 'i',
  ò: 'o',
  ó: 'o',
  ô: 'o',
  ö: 'o',
  ù: 'u',
  ú: 'u',
  û: 'u',
  ü: 'u',
  ç: 'c',
  ñ: 'n',
  ý: 'y',
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
  i: 'l',
  '|': 'l',
};

/** Folds look-alike characters together, and drops hyphens (stmarys-clinic and stmarysclinic read the same). */
export function skeleton(name: string): string {
  let s = '';
  for (const ch of domainToUnicode(name) || name) s += CONFUSABLE[ch] ?? ch;
  return s.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/cl/g, 'd').replace(/[-_.]/g, '');
}

/** Levenshtein distance, stopping early once it exceeds `max` (names are short; this is cheap). */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

// Generic words of the trade never make a trusted name's word "distinctive" (St Mary's Clinic and St
// Mary's Hospital are different places); words attackers add to a trusted name are what count.
const GENERIC = new Set([
  'clinic',
  'clinics',
  'health',
  'hospital',
  'medical',
  'care',
  'lab',
  'labs',
  'diagnostics',
  'mail',
  'group',
  'online',
  'services',
  'service',
]);
const ATTACKER_WORDS = new Set([
  'secure',
  'security',
  'login',
  'logon',
  'signin',
  'verify',
  'verification',
  'account',
  'accounts',
  'billing',
  'invoice',
  'invoices',
  'payment',
  'payments',
  'pay',
  'support',
  'helpdesk',
  'help',
  'portal',
  'update',
  'it',
  'hr',
  'team',
  'auth',
  'sso',
  'webmail',
  'office',
  'docs',
  'share',
  'files',
  'online',
  'mail',
  'service',
]);

export type LookalikeKind = 'edit-distance' | 'homoglyph' | 'added-words' | 'other-suffix' | 'subdomain';

/**
 * Whether `domain` imitates one of `trusted` (registrable domains). The trusted domains themselves
 * and their subdomains are never imitations. Returns the imitated domain and how.
 */
export function lookalikeOf(domain: string, trusted: readonly string[]): { target: string; kind: LookalikeKind } | undefined {
  const host = domain.toLowerCase().replace(/\.$/, '');
  const reg = registrableDomain(host) ?? host;
  if (trusted.includes(reg)) return undefined;
  // stmarys-clinic.org.account-check.com: the trusted name in front of someone else's domain.
  const embedded = trusted.find((t) => host.startsWith(`${t}.`) || host.includes(`.${t}.`));
  if (embedded) return { target: embedded, kind: 'subdomain' };
  const name = nameOf(reg);
  const unicodeName = nameOf(domainToUnicode(reg) || reg);
  const candidateSkeleton = skeleton(unicodeName);
  for (const t of trusted) {
    const tName = nameOf(t);
    if (tName.length < 4) continue; // too short to tell imitation from coincidence
    const tSkeleton = skeleton(tName);
    if (name === tName) return { target: t, kind: 'other-suffix' };
    if (candidateSkeleton === tSkeleton) return { target: t, kind: 'homoglyph' };
    // One edit per six characters: "stmarys-cIinic" is one from "stmarys-clinic"; "labcorp" and "labcore" are not flagged at 7.
    const allowed = Math.max(1, Math.floor(tName.length / 6));
    if (tName.length >= 6 && editDistance(name, tName, allowed) <= allowed) return { target: t, kind: 'edit-distance' };
    if (tSkeleton.length >= 6 && candidateSkeleton.includes(tSkeleton)) return { target: t, kind: 'added-words' };
    const distinctive = tName.split('-').filter((w) => w.length >= 5 && !GENERIC.has(w));
    const words = name.split('-');
    if (distinctive.some((w) => words.includes(w)) && words.some((w) => ATTACKER_WORDS.has(w))) return { target: t, kind: 'added-words' };
  }
  return undefined;
}
