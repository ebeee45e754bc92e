/**
 * Links in the body: what they show, where they lead, and the tricks that separate the two.
 * Scanners and click trackers wrap links (Microsoft Safe Links, Proofpoint, Google's redirect); a
 * query parameter holding a whole URL is unwrapped and the inner target is what gets judged, so that
 * a phishing link behind a scanner is still seen and a tracker's own domain is not held against it.
 */
import net from 'node:net';
import { isMixedScript, isPunycode, lookalikeOf, registrableDomain } from './domains.js';
import { reason } from './reasons.js';
import type { Reason } from './types.js';

export interface Link {
  href: string;
  /** The visible text of an HTML link ('' for a bare URL in text). */
  text: string;
  host: string;
  /** The link, before unwrapping, opens an OAuth authorisation (consent) page. */
  consent?: boolean;
}

/**
 * Hosts where anyone publishes a page or a form for free, under the provider's name: a login page
 * there borrows the provider's certificate and reputation. Matched as the host or a suffix of it;
 * entries with a path are form services on a general domain.
 */
const FREE_HOSTING = [
  'web.app',
  'firebaseapp.com',
  'pages.dev',
  'workers.dev',
  'r2.dev',
  'storage.googleapis.com',
  'firebasestorage.googleapis.com',
  'appspot.com',
  'sites.google.com',
  'blob.core.windows.net',
  'web.core.windows.net',
  'azurewebsites.net',
  'azureedge.net',
  's3.amazonaws.com',
  'amplifyapp.com',
  'netlify.app',
  'vercel.app',
  'github.io',
  'glitch.me',
  'herokuapp.com',
  'onrender.com',
  'surge.sh',
  'repl.co',
  'replit.app',
  '000webhostapp.com',
  'weebly.com',
  'wixsite.com',
  'webflow.io',
  'notion.site',
  'ipfs.io',
  'dweb.link',
  'forms.office.com',
  'forms.microsoft.com',
  'forms.gle',
  'docs.google.com/forms',
  'jotform.com',
  'typeform.com',
  'formstack.com',
];

export function isFreeHosting(href: string, host: string): boolean {
  let path = '';
  try {
    path = new URL(href).pathname;
  } catch {
    /* judged by host alone */
  }
  return FREE_HOSTING.some((entry) => {
    const [h, p] = entry.split(/\/(.*)/s);
    const hostMatches = host === h || host.endsWith(`.${h}`);
    return hostMatches && (!p || path.startsWith(`/${p}`));
  });
}

/** An OAuth 2 / OpenID authorisation request: an authorize endpoint asked for a client's access with a place to send the grant. */
function isConsentRequest(href: string): boolean {
  try {
    const u = new URL(href);
    return (
      /\/(oauth2?|o\/oauth2|connect|adfs\/oauth2)(\/v[\d.]+)?\/(authorize|auth)\b/i.test(u.pathname) &&
      u.searchParams.has('client_id') &&
      u.searchParams.has('redirect_uri')
    );
  } catch {
    return false;
  }
}

// Services whose only job is to hide a destination behind a short path.
const SHORTENERS = new Set([
  'bit.ly',
  'bitly.com',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'rb.gy',
  't.ly',
  'tiny.cc',
  'bit.do',
  's.id',
  'v.gd',
  'qrco.de',
  'shorte.st',
  'adf.ly',
  'tinyurl.is',
  'u.to',
  'clck.ru',
  'x.co',
  'lnkd.in',
  'soo.gd',
  'short.io',
  'bl.ink',
  'urlz.fr',
]);

// Mailing services' click trackers: their links show the sender's address and lead through the
// tracker. That is only excused for mail its From domain authenticates (anyone can buy a tracker).
const CLICK_TRACKERS = new Set([
  'list-manage.com',
  'mcsv.net',
  'sendgrid.net',
  'mailgun.org',
  'mandrillapp.com',
  'hubspotlinks.com',
  'hs-sites.com',
  'exct.net',
  'rs6.net',
  'sendibt2.com',
  'sendibt3.com',
  'brevo.com',
  'mjt.lu',
  'klaviyo.com',
  'createsend1.com',
  'cmail19.com',
  'cmail20.com',
  'awstrack.me',
  'sparkpostmail.com',
  'pardot.com',
  'en25.com',
  'mktoweb.com',
  'cleverreach.com',
  'mailerlite.com',
  'ct.sendgrid.net',
]);

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function hostOf(href: string): string | undefined {
  try {
    const u = new URL(href);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

/** The target inside a wrapper (?url=https://…), when a query parameter holds a whole http(s) URL. */
function unwrap(href: string, depth = 0): string {
  if (depth > 3) return href;
  try {
    const u = new URL(href);
    for (const value of u.searchParams.values()) {
      if (/^https?:\/\//i.test(value) && hostOf(value)) return unwrap(value, depth + 1);
    }
    // Proofpoint v2 writes the URL with - for % and _ for /.
    const pp = /^\/v2\/url$/.test(u.pathname) ? u.searchParams.get('u') : null;
    if (pp) return unwrap(decodeURIComponent(pp.replace(/-/g, '%').replace(/_/g, '/')), depth + 1);
  } catch {
    /* not a URL: kept as it is */
  }
  return href;
}

export function extractLinks(html: string | undefined, text: string | undefined): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  const add = (rawHref: string, shown: string) => {
    const decoded = decodeEntities(rawHref.trim());
    const href = unwrap(decoded);
    const host = hostOf(href);
    if (!host) return;
    const key = `${href}\u0000${shown}`;
    if (seen.has(key)) return;
    seen.add(key);
    links.push({ href, text: shown, host, ...(isConsentRequest(decoded) ? { consent: true } : {}) });
  };
  if (html) {
    // Bounded: an anchor's text is short, and an unclosed <a> must not make the scan quadratic.
    const anchor = /<a\b([^>]{0,4000})>([\s\S]{0,2000}?)<\/a\s*>/gi;
    for (let m = anchor.exec(html); m; m = anchor.exec(html)) {
      const href = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(m[1]);
      if (!href) continue;
      const shown = decodeEntities(m[2].replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim();
      add(href[1] ?? href[2] ?? href[3], shown);
    }
    const areas = /<(?:area|form)\b[^>]*\b(?:href|action)\s*=\s*["']?([^"'\s>]+)/gi;
    for (let m = areas.exec(html); m; m = areas.exec(html)) add(m[1], '');
  }
  if (text) {
    const bare = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
    for (let m = bare.exec(text); m; m = bare.exec(text)) add(m[0].replace(/[.,;:!?]+$/, ''), '');
  }
  return links;
}

/** The host a link's visible text names, when the text reads as an address (www.x.org, https://x.org/…). */
function hostShown(text: string): string | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/[.,;:!?)\]]+$/, '');
  if (!t || /\s/.test(t.replace(/^https?:\/\//, '').replace(/\/.*$/, ''))) return undefined;
  const m = /^(https?:\/\/)?([a-z0-9\u00a1-\uffff-]+(?:\.[a-z0-9\u00a1-\uffff-]+)+)(?:[/:?#].*)?$/i.exec(t);
  if (!m) return undefined;
  // "report.zip" and "clip.mov" are file names as often as hosts (.zip and .mov are also top-level
  // domains): they count as addresses only written as one (https://…, www.…).
  if (!m[1] && !m[2].startsWith('www.') && /\.(zip|mov)$/.test(m[2])) return undefined;
  return registrableDomain(m[2]) ? m[2] : undefined;
}

function isIpHost(host: string): boolean {
  // Browsers also read 3232235777 and 0xC0A80101 as addresses.
  return net.isIP(host) !== 0 || /^(0x[0-9a-f]+|\d{8,10})$/i.test(host);
}

/** Whether a link leads away from the sender's domain (a mailing service's tracker on authenticated mail does not count). */
export function leadsElsewhere(links: Link[], fromDomain: string | undefined, fromAuthenticated: boolean): boolean {
  return links.some((l) => {
    const target = registrableDomain(l.host);
    return target !== fromDomain && !(fromAuthenticated && !!target && CLICK_TRACKERS.has(target));
  });
}

/** `fromAuthenticated`: the From domain is authenticated (then a click tracker between text and target is expected). */
export function checkLinks(links: Link[], trusted: string[], fromAuthenticated: boolean): Reason[] {
  const found = new Set<string>();
  for (const link of links) {
    const target = registrableDomain(link.host);
    const shown = hostShown(link.text);
    const tracked = fromAuthenticated && !!target && CLICK_TRACKERS.has(target);
    if (shown && registrableDomain(shown) !== target && !tracked) found.add('link-text-mismatch');
    if (isIpHost(link.host)) found.add('link-ip-address');
    if (target && SHORTENERS.has(target)) found.add('link-shortener');
    if (isPunycode(link.host)) found.add('link-punycode');
    if (isMixedScript(link.host)) found.add('mixed-script-domain');
    if (target && lookalikeOf(link.host, trusted)) found.add('link-lookalike');
    if (/^https?:\/\/[^/?#]*@/i.test(link.href)) found.add('link-userinfo');
    if (link.consent) found.add('link-oauth-consent');
  }
  return [...found].map((code) => reason(code as Parameters<typeof reason>[0]));
}
