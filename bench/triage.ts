/**
 * Triage of reported mail: messages per second over the test corpus (test/fixtures/mail/triage,
 * signed at run time, DNS answered from memory so that the network is not what is measured),
 * repeated for about five seconds each, against mailparser's simpleParser alone on the same messages
 * in the same run (the floor: triage parses every message once with it), and mailauth's
 * authenticate alone (the other large share). The ratio says what the checks cost on top of parsing.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { authenticate } from 'mailauth';
import { simpleParser } from 'mailparser';
import { triageMessage } from '../src/awareness/index.js';
import { buildCorpus, CLINIC_DOMAINS, STAFF } from '../test/helpers/triageCorpus.js';
import { writeSection } from './report.js';

const SECONDS = Number(process.env.TRIAGE_BENCH_SECONDS ?? 5);
// Said in the report when other work was running: the figures are then lower than on a quiet machine.
const loadAtStart = os.loadavg()[0];
const corpus = await buildCorpus();
const raws = corpus.messages.map((m) => m.raw);

/** Runs `fn` over the corpus again and again for `seconds` (after one warm-up pass); messages per second. */
async function rate(fn: (raw: Buffer) => Promise<unknown>, seconds: number): Promise<{ perSecond: number; messages: number }> {
  for (const raw of raws) await fn(raw);
  let messages = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (const raw of raws) await fn(raw);
    messages += raws.length;
  }
  return { perSecond: messages / ((performance.now() - start) / 1000), messages };
}

const parse = await rate((raw) => simpleParser(raw), SECONDS);
const auth = await rate(
  (raw) => authenticate(raw, { resolver: corpus.resolver, ip: '192.0.2.1', sender: 'bench@example.org', mta: 'bench', disableBimi: true }),
  SECONDS,
);
const triage = await rate((raw) => triageMessage(raw, { domains: CLINIC_DOMAINS, staff: STAFF, resolver: corpus.resolver }), SECONDS);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const row = (what: string, r: { perSecond: number; messages: number }, bold = false) =>
  `| ${what} | ${r.perSecond.toFixed(0)} | ${r.messages.toLocaleString('en')} | ${bold ? '**' : ''}${(r.perSecond / parse.perSecond).toFixed(3)}${bold ? '**' : ''} |`;
const section = `## Reported-mail triage

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/triage.ts) on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}${loadAtStart >= 0.5 ? `; the machine was shared (load average ${loadAtStart.toFixed(2)} when the run began)` : ''}. The ${raws.length} messages of the test corpus (test/fixtures/mail/triage, DKIM-signed at run time,
${(raws.reduce((n, r) => n + r.length, 0) / raws.length / 1024).toFixed(1)} KiB on average), each pass over all of them repeated for ${SECONDS} s, one at a time; DNS is
answered from memory (with real DNS, triage waits for the lookups: at most a few seconds, usually tens of milliseconds).

| what | messages/s | messages | ratio to parsing |
|---|---:|---:|---:|
${row('baseline: mailparser simpleParser alone', parse)}
${row('mailauth authenticate alone (SPF, DKIM, DMARC, ARC)', auth)}
${row('triageMessage: parse, authenticate, every check, summary', triage, true)}

Triage costs about what parsing and authentication cost together: the message is read twice (once by
mailparser, once by mailauth, which hashes the body for each DKIM signature); the domain, link and
attachment checks add little. A clinic's reports come in by the handful, so one core is ample.
`;
process.stdout.write(section);
writeSection(section);
