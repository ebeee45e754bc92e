/**
 * Triage on the held-out corpus (test/fixtures/mail/triage-heldout): 40 messages written after the
 * rules, in shapes the first corpus lacks, with expectations decided per message before any rule was
 * changed for them (docs/awareness.md, "Held-out check"). The assertions are a clinic's: no phishing
 * message judged clean, no legitimate message judged phishing. Exact verdicts and per-reason figures
 * are reported, not asserted: the misses that remain are documented as known limits. Then the readers
 * the held-out corpus called for, on cases of their own (each with the near miss that must not count).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TRIAGE_REASONS, triageMessage, type TriageResult } from '../src/awareness/index.js';
import { hasHiddenCharacters, pageRunsScript, pdfRunsSomething, rarEncrypted, sevenZipEncrypted } from '../src/awareness/triage/archives.js';
import { isFreeHosting } from '../src/awareness/triage/links.js';
import { runCli } from './helpers/cli.js';
import { buildCorpus, CLINIC_DOMAINS, HELDOUT, reasonCounts, STAFF, type Corpus } from './helpers/triageCorpus.js';

let corpus: Corpus;
const results = new Map<string, TriageResult>();
// The table answers at once: a long deadline, so that a loaded machine cannot change a verdict.
const triage = (raw: Buffer | string) =>
  triageMessage(Buffer.from(raw), { domains: CLINIC_DOMAINS, staff: STAFF, resolver: corpus.resolver, dnsDeadlineMs: 60_000 });
const codes = (r: TriageResult) => r.reasons.map((x) => x.code);
const raw = (file: string) => corpus.messages.find((m) => m.file === file)!.raw;
const unsigned = (message: string) => message.replace(/^DKIM-Signature:.*\r\n(?:[ \t].*\r\n)*/m, '');

before(async () => {
  corpus = await buildCorpus(HELDOUT);
  for (const m of corpus.messages) results.set(m.file, await triage(m.raw));
});

describe('the held-out corpus', () => {
  test('is a mix of at least 30 messages, each with its expectation', () => {
    assert.ok(corpus.messages.length >= 30);
    const labels: Array<string | undefined> = corpus.messages.map((m) => corpus.expectations[m.file]?.label);
    assert.ok(!labels.includes(undefined));
    assert.ok(labels.filter((l) => l === 'phishing').length >= 15 && labels.filter((l) => l === 'legitimate').length >= 12);
    assert.equal(Object.keys(corpus.expectations).length, corpus.messages.length);
  });

  test('no phishing message judged clean, no legitimate message judged phishing (confusion reported)', (t) => {
    const table: Record<string, Record<string, number>> = { phishing: {}, legitimate: {} };
    const wrong: string[] = [];
    let exact = 0;
    for (const m of corpus.messages) {
      const want = corpus.expectations[m.file];
      const got = results.get(m.file)!;
      table[want.label][got.verdict] = (table[want.label][got.verdict] ?? 0) + 1;
      if (got.verdict === want.verdict) exact++;
      else t.diagnostic(`${m.file}: expected ${want.verdict}, got ${got.verdict} (score ${got.score})`);
      if (want.label === 'phishing' && got.verdict === 'clean') wrong.push(`${m.file}: phishing judged clean`);
      if (want.label === 'legitimate' && got.verdict === 'phishing') wrong.push(`${m.file}: legitimate judged phishing`);
    }
    t.diagnostic(`confusion: ${JSON.stringify(table)}; verdicts exact ${exact}/${corpus.messages.length}`);
    assert.deepEqual(wrong, []);
    // Only the staff member writing from a private address may be flagged among the legitimate (it is expected suspicious).
    const flagged = corpus.messages.filter((m) => corpus.expectations[m.file].label === 'legitimate' && results.get(m.file)!.verdict !== 'clean');
    assert.deepEqual(
      flagged.map((m) => m.file),
      ['hl14-staff-private-gmail-sick.eml'],
    );
  });

  test('per reason: precision and recall over the held-out corpus (reported)', (t) => {
    let tpAll = 0;
    let fpAll = 0;
    let fnAll = 0;
    // Authentication results are listed only where a message's point is its authentication.
    const counts = reasonCounts(
      corpus,
      results,
      TRIAGE_REASONS.map((r) => r.code),
      (code) => /^(spf|dkim|dmarc|arc)-/.test(code),
    );
    for (const { code, tp, fp, fn } of counts) {
      tpAll += tp;
      fpAll += fp;
      fnAll += fn;
      if (fp + fn > 0) t.diagnostic(`${code}: tp ${tp}, fp ${fp}, fn ${fn}`);
    }
    t.diagnostic(`all reasons: precision ${(tpAll / (tpAll + fpAll)).toFixed(3)} recall ${(tpAll / (tpAll + fnAll)).toFixed(3)}`);
    assert.ok(tpAll / (tpAll + fnAll) >= 0.9, 'the expected reasons are found');
  });

  test('a report forwarded as an attachment is judged by the message it carries, and says so', () => {
    const r = results.get('hp24-forwarded-report-parcel.eml')!;
    assert.equal(codes(r)[0], 'attached-message-judged');
    assert.ok(!codes(r).includes('known-sender-authenticated'), 'the outer envelope is not what is judged');
    assert.equal(r.summary.fromDomain, 'parcel-hold.com');
  });

  test('from outside, or spoofing the clinic, an attachment does not stand in for the envelope', async () => {
    const outer = raw('hp24-forwarded-report-parcel.eml').toString();
    // Sent by an outsider: judged as it is (the attached message is not unwrapped).
    const outsider = unsigned(outer.replace(/^From: .*$/m, 'From: Someone <someone@docs-archive.net>'));
    assert.ok(!codes(await triage(outsider)).includes('attached-message-judged'));
    // Claiming the clinic's domain but sent from elsewhere (DMARC fails): not unwrapped either.
    const spoofed = unsigned(
      outer.replace('smtp-out.stmarys-clinic.org (smtp-out.stmarys-clinic.org [198.51.100.5])', 'vps.example.net (vps.example.net [185.220.101.9])'),
    );
    const r = await triage(spoofed);
    assert.ok(!codes(r).includes('attached-message-judged'));
    assert.ok(codes(r).includes('spoofed-known-domain'));
  });

  test('a staff surname counts with an office ("Medical Director"), not with an academic title from another practice', async () => {
    const from = async (display: string) => {
      const message = [
        'From: ' + display + ' <office@northfield-dental.com>',
        'To: ward3@stmarys-clinic.org',
        'Subject: Referral',
        'Date: Wed, 02 Dec 2026 10:00:00 +0100',
        '',
        'See you Thursday.',
        '',
      ];
      return codes(await triage(message.join('\r\n')));
    };
    assert.ok((await from('Keller - Medical Director')).includes('display-name-staff'));
    assert.ok(!(await from('Dr. Keller')).includes('display-name-staff'));
    assert.ok(!(await from('Dr. Brandt-Meyer')).includes('display-name-staff'));
  });

  test('a QR request needs a code to scan: a one-time code sent to the phone, with a logo, is not one', async () => {
    const mail = (line: string) =>
      [
        'From: Accounts <accounts@rotaplan-app.com>',
        'To: m.lopez@stmarys-clinic.org',
        'Subject: Sign-in',
        'Date: Wed, 02 Dec 2026 10:00:00 +0100',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `${line} Verify your account to continue.`,
        '--b',
        'Content-Type: image/png; name="logo.png"',
        'Content-Disposition: inline; filename="logo.png"',
        'Content-Transfer-Encoding: base64',
        '',
        'iVBORw0KGgo=',
        '--b--',
        '',
      ].join('\r\n');
    assert.ok(codes(await triage(mail('Scan the QR code with your phone.'))).includes('qr-code-lure'));
    assert.ok(!codes(await triage(mail('Enter the code we sent to your phone.'))).includes('qr-code-lure'));
  });

  test('"via DocuSign" is excused only from the service\'s own authenticated domain', async () => {
    assert.ok(!codes(results.get('hl08-docusign-genuine-via.eml')!).includes('display-name-staff'));
    const forged = raw('hl11-supplier-invoice-pdf-link.eml')
      .toString()
      .replace(/^From: .*$/m, 'From: Maria Lopez via DocuSign <dse@envelope-sign.com>');
    assert.ok(codes(await triage(forged)).includes('display-name-staff'));
  });
});

describe('the readers the held-out corpus called for', () => {
  test('7z: the AES coder in the header is encryption; LZMA alone is not; other bytes are not 7z', () => {
    const head = (next: Buffer) => {
      const start = Buffer.alloc(32);
      Buffer.from('377abcaf271c0004', 'hex').copy(start, 0);
      start.writeBigUInt64LE(16n, 12);
      start.writeBigUInt64LE(BigInt(next.length), 20);
      return Buffer.concat([start, Buffer.alloc(16), next]);
    };
    assert.equal(sevenZipEncrypted(head(Buffer.from('170b0124' + '06f10701' + '00', 'hex'))), true);
    assert.equal(sevenZipEncrypted(head(Buffer.from('170b0123' + '030101' + '00', 'hex'))), false);
    // The AES id inside the packed data, not the header, is content: not encryption.
    const inData = head(Buffer.from('170b0123030101', 'hex'));
    Buffer.from('06f10701', 'hex').copy(inData, 36);
    assert.equal(sevenZipEncrypted(inData), false);
    assert.equal(sevenZipEncrypted(Buffer.from('%PDF-1.7')), undefined);
  });

  test('RAR 4: the main header password flag and a file header password flag; an ordinary archive is not encrypted', () => {
    const rar4 = (type: number, flags: number) => {
      const block = Buffer.alloc(13);
      block[2] = type;
      block.writeUInt16LE(flags, 3);
      block.writeUInt16LE(13, 5);
      return Buffer.concat([Buffer.from('526172211a0700', 'hex'), block]);
    };
    assert.equal(rarEncrypted(rar4(0x73, 0x0080)), true);
    assert.equal(rarEncrypted(Buffer.concat([rar4(0x73, 0), rar4(0x74, 0x0004).subarray(7)])), true);
    assert.equal(rarEncrypted(Buffer.concat([rar4(0x73, 0), rar4(0x74, 0).subarray(7)])), false);
    assert.equal(rarEncrypted(Buffer.from('PK\u0003\u0004')), undefined);
  });

  test('RAR 5: a file header with an encryption record; without one, not encrypted', () => {
    const file = (extra: number[]) => {
      // type 2 (file), flags 1 (extra area present), extra size, then (fields omitted) the extra area.
      const header = Buffer.from([0x02, 0x01, extra.length, ...extra]);
      return Buffer.concat([Buffer.alloc(4), Buffer.from([header.length]), header]);
    };
    const sig = Buffer.from('526172211a070100', 'hex');
    assert.equal(rarEncrypted(Buffer.concat([sig, file([0x02, 0x01, 0x00])])), true);
    assert.equal(rarEncrypted(Buffer.concat([sig, file([0x02, 0x03, 0x00])])), false);
  });

  test('PDF: JavaScript or a launch action, also escaped (/J#61vaScript); a link annotation is not', () => {
    assert.equal(pdfRunsSomething(Buffer.from('%PDF-1.7\n<< /S /J#61vaScript /JS (x) >>')), true);
    assert.equal(pdfRunsSomething(Buffer.from('%PDF-1.7\n<< /S /Launch /F (cmd.exe) >>')), true);
    assert.equal(pdfRunsSomething(Buffer.from('%PDF-1.7\n<< /S /URI /URI (https://www.medsupply.com/) >>')), false);
    assert.equal(pdfRunsSomething(Buffer.from('not a pdf /JavaScript')), undefined);
  });

  test('pages that run script; a static page or image does not', () => {
    assert.ok(pageRunsScript('<svg><script>x()</script></svg>'));
    assert.ok(pageRunsScript('<svg><image onload="x()"/></svg>'));
    assert.ok(pageRunsScript('<meta http-equiv="refresh" content="0; url=https://x.example/">'));
    assert.ok(pageRunsScript('<a href="javascript:go()">open</a>'));
    assert.ok(!pageRunsScript('<svg><text>JavaScript: a course for the ward</text></svg>'));
    assert.ok(!pageRunsScript('<html><body><p>Receipt</p></body></html>'));
  });

  test('hidden characters: overrides and zero-width spaces count; emoji sequences and Persian joiners do not', () => {
    assert.ok(hasHiddenCharacters('invoice\u202efdp.exe'));
    assert.ok(hasHiddenCharacters('Ann\u200ba Keller'));
    assert.ok(hasHiddenCharacters('Ke\u200cller'));
    assert.ok(!hasHiddenCharacters('Ward 3 \u{1F469}\u200d\u2695\ufe0f'));
    assert.ok(!hasHiddenCharacters('\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645'));
    assert.ok(!hasHiddenCharacters('Invoice-2026.pdf'));
  });

  test("free hosting by host suffix, and form services by path; the providers' own sites are not", () => {
    assert.ok(isFreeHosting('https://x-1.web.app/login', 'x-1.web.app'));
    assert.ok(isFreeHosting('https://docs.google.com/forms/d/e/1/viewform', 'docs.google.com'));
    assert.ok(isFreeHosting('https://acct.blob.core.windows.net/c/i.html', 'acct.blob.core.windows.net'));
    assert.ok(!isFreeHosting('https://docs.google.com/document/d/1/edit', 'docs.google.com'));
    assert.ok(!isFreeHosting('https://www.web.app.example.com/', 'www.web.app.example.com'));
    assert.ok(!isFreeHosting('https://portal.azure.com/', 'portal.azure.com'));
  });
});

describe('carewall awareness triage on a forwarded report', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-heldout-'));
    fs.writeFileSync(path.join(dir, 'report.eml'), raw('hp24-forwarded-report-parcel.eml'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('judges the attached message and names that in the reasons', async () => {
    const r = await runCli(
      ['awareness', 'triage', '--eml', 'report.eml', '--json', '--domains', CLINIC_DOMAINS.join(','), '--data-dir', path.join(dir, 'none')],
      {
        cwd: dir,
        env: { DATABASE_URL: undefined },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { verdict: string; reasons: Array<{ code: string }> };
    assert.ok(out.reasons.some((x) => x.code === 'attached-message-judged'));
    assert.ok(out.reasons.some((x) => x.code === 'link-shortener'));
    assert.notEqual(out.verdict, 'clean');
  });
});
