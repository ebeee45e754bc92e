/**
 * Campaign sending rate: a campaign of AWARENESS_BENCH_PEOPLE people sent by Carewall (plan, claim
 * with SKIP LOCKED, render with the person's token, hand to the relay, record the events) against
 * the baseline of nodemailer alone handing the same number of similar messages to the same relay
 * over one pooled connection, in the same run. The relay is smtp-server in process, accepting and
 * discarding: what is measured is Carewall's own cost per message, not a mail server's.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { SHIPPED_TEMPLATES } from '../src/awareness/index.js';
import { startTestServer } from '../test/helpers/harness.js';
import { writeSection } from './report.js';

const PEOPLE = Number(process.env.AWARENESS_BENCH_PEOPLE ?? 500);

async function relay(): Promise<{ server: SMTPServer; port: number; count: () => number }> {
  let n = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _s, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        n++;
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.server.address() as { port: number }).port, count: () => n };
}

const r = await relay();
const s = await startTestServer({ awareness: { smtp: { host: '127.0.0.1', port: r.port }, sendPerMinute: 1_000_000 } } as never);
try {
  const officer = { accountId: 'bench', username: 'bench', roles: ['awareness-officer' as const] };
  const csv = [
    'email,first_name,last_name,department,time_zone',
    ...Array.from({ length: PEOPLE }, (_, i) => `p${i}@clinic.test,First${i},Last${i},Ward ${i % 7},Europe/Berlin`),
  ].join('\n');
  await s.cw.awareness.importStaffCsv(officer, csv);
  const group = await s.cw.awareness.createGroup(officer, { name: 'everyone', departments: Array.from({ length: 7 }, (_, i) => `Ward ${i}`) });
  const planStarted = performance.now();
  await s.cw.awareness.createCampaign(officer, {
    name: 'bench',
    group: group.id,
    templates: SHIPPED_TEMPLATES.map((t) => t.id),
    window: { start: '2026-11-30T00:00:00Z', end: '2026-12-05T00:00:00Z' },
  });
  const planMs = performance.now() - planStarted;

  // Baseline: nodemailer alone, one pooled connection, a message of the same size per person.
  const t = SHIPPED_TEMPLATES[0];
  const transporter = nodemailer.createTransport({ host: '127.0.0.1', port: r.port, secure: false, pool: true, maxConnections: 1, ignoreTLS: true });
  const baseStarted = performance.now();
  for (let i = 0; i < PEOPLE; i++) {
    await transporter.sendMail({ from: `"${t.fromName}" <${t.fromAddress}>`, to: `p${i}@clinic.test`, subject: t.subject, html: t.html, text: t.text });
  }
  const baseMs = performance.now() - baseStarted;
  transporter.close();

  const before = r.count();
  const started = performance.now();
  let sent = 0;
  while (sent < PEOPLE) sent += await s.cw.awareness.sendDue(new Date('2026-12-06T00:00:00Z'));
  const carewallMs = performance.now() - started;
  if (r.count() - before !== PEOPLE) throw new Error(`the relay received ${r.count() - before} of ${PEOPLE}`);

  const perSecond = (ms: number) => (PEOPLE / (ms / 1000)).toFixed(0);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const section = `## Awareness: sending a campaign

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/awareness.ts) on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}, ${s.databaseUrl ? 'PostgreSQL' : 'the embedded database (PGlite)'}. ${PEOPLE} people, the ${SHIPPED_TEMPLATES.length} shipped templates; the relay
is smtp-server in process (accepts and discards), so the figures are the sender's own cost.

| what | time | messages per second | ratio |
|---|---:|---:|---:|
| nodemailer alone, one pooled connection (baseline) | ${(baseMs / 1000).toFixed(2)} s | ${perSecond(baseMs)} | 1.00 |
| Carewall: claim, render with the person's token, hand to the relay, record sent and delivered | ${(carewallMs / 1000).toFixed(2)} s | ${perSecond(carewallMs)} | ${(carewallMs / baseMs).toFixed(2)} |
| planning the campaign (a template and a moment per person, the tokens sealed) | ${(planMs / 1000).toFixed(2)} s | | |

A clinic's relay takes far fewer: \`awareness.sendPerMinute\` (60 by default) is the limit in practice.
`;
  process.stdout.write(section);
  writeSection(section);
} finally {
  await s.close();
  await new Promise<void>((resolve) => r.server.close(() => resolve()));
}
