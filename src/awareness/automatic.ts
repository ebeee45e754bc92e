/**
 * Whether a click on a simulation's link was a person or a machine. Mail scanners (Safe Links and
 * its kind) and link previewers fetch every link of a message as it arrives; counted as clicks they
 * make whole departments look phish-prone (GoPhish's most-asked-for fix). A click is judged from
 * what the request and its neighbours show, never from one tell alone unless that tell is
 * conclusive, and the reasons are kept with the figures so that an officer can see why.
 *
 * Conclusive (any one): a known scanner or previewer, or a program rather than a browser, named in
 * the User-Agent; an address in the scanners' ranges; no User-Agent at all; the page's script never
 * reported back (a browser runs it as the page shows; fetchers do not run scripts).
 * Suggestive (two needed): the click came before the message could have been read (seconds after
 * delivery); a burst (several requests for the message within two seconds, or from several
 * addresses at once); a headless browser.
 */
import { BlockList, isIP } from 'node:net';

export interface Request {
  /** The event's number, which ties a click to its page's script report (beacon). */
  n: number;
  kind: 'open' | 'click' | 'beacon' | 'submit';
  at: Date;
  ip?: string;
  userAgent?: string;
  /** For a beacon: the click whose page sent it. */
  click?: number;
}

export interface Judgement {
  automatic: boolean;
  reasons: string[];
}

/** Names in User-Agents of mail-security scanners, link previewers and HTTP libraries (lower case). */
const MACHINE_AGENTS = [
  // mail security and sandboxes
  'safelinks',
  'mimecast',
  'proofpoint',
  'barracuda',
  'symantec',
  'messagelabs',
  'forcepoint',
  'ironport',
  'cisco',
  'fortimail',
  'fortiguard',
  'trendmicro',
  'sophos',
  'zscaler',
  'checkpoint',
  'paloalto',
  'urldefense',
  'avanan',
  'abnormal',
  'cloudmark',
  'spamtitan',
  'hornetsecurity',
  'vade',
  // previewers and crawlers
  'bingpreview',
  'skypeuripreview',
  'slackbot',
  'slack-imgproxy',
  'facebookexternalhit',
  'twitterbot',
  'whatsapp',
  'telegrambot',
  'discordbot',
  'linkedinbot',
  'googlebot',
  'google-safety',
  'google web preview',
  'googleimageproxy',
  'yahoomailproxy',
  'applebot',
  'microsoft office',
  'ms-office',
  'microsoftpreview',
  'outlook-ios-preview',
  'bot/',
  'crawler',
  'spider',
  'preview',
  // programs, not browsers
  'python-requests',
  'python-urllib',
  'aiohttp',
  'curl/',
  'wget/',
  'go-http-client',
  'java/',
  'okhttp',
  'libwww-perl',
  'apache-httpclient',
  'node-fetch',
  'undici',
  'axios/',
  'powershell',
  'httpclient',
  'postmanruntime',
  'scrapy',
];

/** Seconds after delivery before which a click is too early to follow a reading. */
export const TOO_EARLY_SECONDS = 10;
const BURST_MS = 2000;

export function machineAgent(userAgent: string | undefined): string | undefined {
  const ua = (userAgent ?? '').toLowerCase();
  return MACHINE_AGENTS.find((name) => ua.includes(name));
}

/** Address ranges (CIDR) of scanners, from the settings. Invalid entries are reported at start. */
export function scannerRanges(cidrs: string[]): { list: BlockList; invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const family = isIP(addr);
    const prefix = Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) invalid.push(c);
    else list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { list, invalid };
}

function inRanges(ranges: BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  const family = isIP(ip);
  return family !== 0 && ranges.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** Judges each click of one message, given every request made for that message and when it was delivered. */
export function judgeClicks(requests: Request[], deliveredAt: Date | undefined, ranges: BlockList): Map<number, Judgement> {
  const out = new Map<number, Judgement>();
  const beacons = new Set(requests.filter((r) => r.kind === 'beacon' && r.click !== undefined).map((r) => r.click));
  const times = requests.filter((r) => r.kind !== 'beacon').map((r) => r.at.getTime());
  for (const click of requests.filter((r) => r.kind === 'click')) {
    const conclusive: string[] = [];
    const suggestive: string[] = [];
    const agent = machineAgent(click.userAgent);
    if (!click.userAgent) conclusive.push('no User-Agent: not a browser');
    else if (agent) conclusive.push(`the User-Agent names a scanner, previewer or program ("${agent}")`);
    if (inRanges(ranges, click.ip)) conclusive.push("the address is in the mail scanners' ranges");
    if (!beacons.has(click.n)) conclusive.push("the page's script never ran (fetchers do not run scripts)");
    if (deliveredAt && click.at.getTime() - deliveredAt.getTime() < TOO_EARLY_SECONDS * 1000)
      suggestive.push(`clicked within ${TOO_EARLY_SECONDS} s of delivery`);
    const t = click.at.getTime();
    const near = times.filter((x) => Math.abs(x - t) <= BURST_MS).length;
    const addresses = new Set(requests.filter((r) => r.kind !== 'beacon' && Math.abs(r.at.getTime() - t) <= BURST_MS && r.ip).map((r) => r.ip));
    if (near >= 3 || addresses.size >= 2) suggestive.push('part of a burst of requests for the message');
    if ((click.userAgent ?? '').toLowerCase().includes('headless')) suggestive.push('a headless browser');
    const automatic = conclusive.length > 0 || suggestive.length >= 2;
    out.set(click.n, { automatic, reasons: automatic ? [...conclusive, ...suggestive] : [] });
  }
  return out;
}
