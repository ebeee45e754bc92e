/**
 * `npm run bench` (third part): the audit log.
 *  1. Sustained appends under concurrent reads: APPENDERS in-process callers each record an
 *     access (the same record shape as a chart read) and wait for its commit, in a loop, while
 *     HTTP clients read chart records (each read appends its own record). Reported: records
 *     committed per second, of which the appenders', and the reads served.
 *  2. Proof latency at BENCH_AUDIT_RECORDS (default 1,000,000) records: the log is filled through
 *     the same append path (batches of 5,000 realistic records), then inclusion proofs for random
 *     records against the whole tree and consistency proofs between random sizes, p50 / p99.
 *  3. Full verification (`verifyLog`, what `carewall audit verify` runs) of that log, against raw
 *     SHA-256 of the same leaf bytes in memory, measured in the same run: records/s and MB/s.
 *
 * BENCH_SECONDS (default 12), BENCH_AUDIT_RECORDS, BENCH_APPENDERS (256), BENCH_CONCURRENCY (8),
 * DATABASE_URL for PostgreSQL.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { encodeLeaf, type AuditRecord } from '../src/audit/record.js';
import { leafHash, rootAt, verifyConsistency, verifyInclusion } from '../src/audit/merkle.js';
import { CHUNK, chunkSelect } from '../src/audit/verifyChunk.js';
import { batchHasher } from '../src/audit/batchHash.js';
import { searchColumnsOf } from '../src/audit/searchColumns.js';
import type { Queryable } from '../src/db/database.js';
import { maintainEmbedded } from '../src/db/embeddedMaintenance.js';
import { startTestServer } from '../test/helpers/harness.js';
import { measure } from './measure.js';
import { rng } from './synthetic.js';
import { writeSection } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const RECORDS = Number(process.env.BENCH_AUDIT_RECORDS ?? 1_000_000);
const APPENDERS = Number(process.env.BENCH_APPENDERS ?? 256);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** Chart reads a second in the steady-load run: about what 200 clinicians opening a chart every 2 seconds would make. */
const READ_RATE = Number(process.env.BENCH_READ_RATE ?? 100);
const PROOFS = 2000;
const READS = 300;
const FILL_BATCH = 5000;
const FILL_PATIENTS = 10_000;
const SEARCHES = 100;
/** The patient of fill record k (not a stored Patient: only the log is searched). */
const fillPatient = (k: number) => `00000000-0000-4000-9000-${String(k % FILL_PATIENTS).padStart(12, '0')}`;

/** The account of bench user u: one per user, as in a clinic (50 clinicians). */
const accountOf = (u: number) => `00000000-0000-4000-8000-${String(u).padStart(12, '0')}`;

/** A record shaped like a chart read's, varied by n. */
function readRecord(n: number, patient: string): Omit<AuditRecord, 'time'> {
  return {
    action: 'read',
    outcome: 'success',
    user: { account: accountOf(n % 50), username: `dr-${n % 50}`, practitioner: `Practitioner/${n % 50}`, roles: ['physician'] },
    client: { ip: '10.0.0.17', userAgent: 'ward-tablet/1.0' },
    requestId: `req-${n}`,
    patient,
    resource: { type: 'Observation', id: crypto.randomUUID(), version: '1' },
    purposeOfUse: 'TREAT',
    explanation: {
      reason: 'care relationship',
      basis: 'relationship',
      relationships: [{ kind: 'care-team', source: `CareTeam/${n % 997}`, principal: `Practitioner/${n % 50}`, direct: true }],
    },
  };
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function main() {
  const server = await startTestServer({ audit: { intervalSeconds: 5 } });
  const cw = server.cw;
  const kind = server.databaseUrl ? 'postgres' : 'pglite';
  const version = (await cw.db.query<{ v: string }>("select current_setting('server_version') as v")).rows[0].v;
  const token = await server.login(['physician'], 'dr-audit-bench');
  const patient = await cw.fhir.create(SYSTEM, 'Patient', {
    resourceType: 'Patient',
    name: [{ family: 'Benchata' }],
    generalPractitioner: [{ reference: server.practitionerOf(token) }],
  });
  const obs: string[] = [];
  for (let i = 0; i < 50; i++) {
    const o = await cw.fhir.create(SYSTEM, 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patient.id}` },
      valueQuantity: { value: 60 + i, unit: 'beats/minute' },
    } as Resource);
    obs.push(o.id);
  }

  // 1. Appends under concurrent reads: readers back to back (they and the appenders share the
  // machine's cores, so the more the readers take the fewer appends), then readers at a steady
  // READ_RATE (a clinic's busy hour is far below it) to show the log's own append rate beside reads.
  const appendsUnder = async (ratePerSecond?: number) => {
    process.stderr.write(`[${kind}] appends under concurrent reads (${ratePerSecond ? `${ratePerSecond} reads/s` : 'readers back to back'}), ${SECONDS} s\n`);
    const startSize = (await cw.audit.log.head()).size;
    let appended = 0;
    let stop = false;
    const appenders = Array.from({ length: APPENDERS }, async (_, a) => {
      let n = a;
      while (!stop) {
        await cw.audit.record(readRecord(n, patient.id));
        appended++;
        n += APPENDERS;
      }
    });
    const t0 = performance.now();
    const reads = await measure(server.url, token, (random) => `/fhir/Observation/${obs[Math.floor(random() * obs.length)]}`, {
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      warmupSeconds: 0,
      ratePerSecond,
    });
    stop = true;
    await Promise.all(appenders);
    const elapsed = (performance.now() - t0) / 1000;
    const committed = (await cw.audit.log.head()).size - startSize;
    const rate = {
      total: committed / elapsed,
      appenders: appended / elapsed,
      reads: reads.opsPerSec,
      readP50: reads.p50,
      readP99: reads.p99,
      errors: reads.errors,
    };
    process.stderr.write(`  ${rate.total.toFixed(0)} records/s committed (${rate.appenders.toFixed(0)} by appenders), ${reads.opsPerSec.toFixed(0)} reads/s\n`);
    return rate;
  };
  const appendRate = await appendsUnder();
  const pacedRate = await appendsUnder(READ_RATE);

  // 2. Fill to RECORDS through the batch append path.
  cw.audit.stop();
  let size = (await cw.audit.log.head()).size;
  process.stderr.write(`[${kind}] filling the log to ${RECORDS.toLocaleString('en')} records\n`);
  const fillStart = performance.now();
  const fillStartTime = Date.now();
  const fillFrom = size;
  let n = size;
  while (size < RECORDS) {
    const count = Math.min(FILL_BATCH, RECORDS - size);
    // With their search columns, as the service appends them: 1M accesses over FILL_PATIENTS
    // patients by the 50 clinicians, so that searching the filled log is measured too.
    const records = Array.from({ length: count }, () => {
      const k = n++;
      return { ...readRecord(k, fillPatient(k)), time: new Date().toISOString() };
    });
    await cw.audit.log.appendBatch(
      records.map((r) => encodeLeaf(r)),
      records.map(searchColumnsOf),
    );
    size += count;
    if (size % 100_000 === 0) process.stderr.write(`  ${size.toLocaleString('en')}\n`);
  }
  const fillSeconds = (performance.now() - fillStart) / 1000;
  const head = await cw.audit.log.head();
  await cw.audit.checkpoints.checkpoint();
  const maintenance = kind === 'pglite' ? await timedMaintenance(cw.db) : undefined;

  // Proof latency at that size.
  const random = rng(11);
  const inclusion: number[] = [];
  for (let i = 0; i < PROOFS; i++) {
    const index = Math.floor(random() * head.size);
    const t = performance.now();
    const proof = await cw.audit.log.inclusionProof(index, head.size);
    inclusion.push(performance.now() - t);
    if (i < 20) {
      const leaf = (await cw.audit.log.leaf(index))!;
      if (!verifyInclusion(index, head.size, leafHash(leaf), proof, head.root)) throw new Error('an inclusion proof did not verify');
    }
  }
  const consistency: number[] = [];
  for (let i = 0; i < PROOFS; i++) {
    const from = 1 + Math.floor(random() * (head.size - 1));
    const t = performance.now();
    const proof = await cw.audit.log.consistencyProof(from, head.size);
    consistency.push(performance.now() - t);
    if (i < 5) {
      if (!verifyConsistency(from, head.size, proof, await rootAt(cw.audit.log.nodes(), from), head.root))
        throw new Error('a consistency proof did not verify');
    }
  }
  inclusion.sort((a, b) => a - b);
  consistency.sort((a, b) => a - b);
  process.stderr.write(`  inclusion p50 ${pct(inclusion, 0.5).toFixed(2)} ms, consistency p50 ${pct(consistency, 0.5).toFixed(2)} ms\n`);
  // Reading records back (a verifier's GET /api/audit/records/{index}; a page of AuditEvent
  // search results, each record from another bundle): each compressed bundle is fetched and
  // inflated whole for the records it holds.
  const recordReads: Record<'one' | 'page', number[]> = { one: [], page: [] };
  for (const [name, n] of [
    ['one', 1],
    ['page', 50],
  ] as const) {
    for (let i = 0; i < READS; i++) {
      const indexes = Array.from({ length: n }, () => Math.floor(random() * head.size));
      const t = performance.now();
      const got = await cw.audit.log.leavesAt(indexes);
      recordReads[name].push(performance.now() - t);
      if (got.size !== new Set(indexes).size) throw new Error('a record was not read back');
    }
    recordReads[name].sort((a, b) => a - b);
  }

  // Searches of the filled log, as the AuditEvent search and the access report make them: a page
  // of 50 newest first with the total count: a patient's accesses (about 100 each here, spread
  // over as many rows of search columns), a clinician's (about 20,000 each, in rows of their own),
  // and one second in the middle of the fill.
  const searches: Record<'patient' | 'agent' | 'date', number[]> = { patient: [], agent: [], date: [] };
  const middle = fillStartTime + (fillSeconds * 1000) / 2;
  for (const [name, runs] of [
    ['patient', SEARCHES],
    ['agent', 10],
    ['date', 10],
  ] as const) {
    for (let i = 0; i < runs; i++) {
      const filter =
        name === 'patient'
          ? { patient: fillPatient(fillFrom + Math.floor(random() * (head.size - fillFrom))) } // a patient of a filled record
          : name === 'agent'
            ? { agent: accountOf(Math.floor(random() * 50)) }
            : { from: new Date(middle - 500).toISOString(), to: new Date(middle + 500).toISOString() };
      const t = performance.now();
      const found = await cw.audit.search({ ...filter, count: 50, offset: 0, newestFirst: true });
      searches[name].push(performance.now() - t);
      if (found.total === 0 || found.entries.length === 0) throw new Error(`a ${name} search found nothing`);
    }
    searches[name].sort((a, b) => a - b);
  }
  process.stderr.write(
    `  search p50: patient ${pct(searches.patient, 0.5).toFixed(1)} ms, agent ${pct(searches.agent, 0.5).toFixed(1)} ms, date ${pct(searches.date, 0.5).toFixed(1)} ms\n`,
  );

  // 3. Full verification against raw SHA-256 of the same bytes.
  process.stderr.write(`[${kind}] verifying ${head.size.toLocaleString('en')} records\n`);
  const vkey = await cw.audit.pinnedVerifierKey();
  // The built code, as `carewall audit verify` runs it (npm run bench builds first): its worker
  // threads then start without compiling TypeScript.
  const built = (await import(new URL('../dist/audit/verify.js', import.meta.url).href)) as typeof import('../src/audit/verify.js');
  // Three times: the first reading of rows just written also writes them back (PostgreSQL sets
  // their hint bits; on a server autovacuum would have done it in time), so the first verification
  // of a freshly filled log is slower than any later one. The target is held against the later
  // ones: a log verified nightly has all but its newest rows read before.
  const verifyOnce = async () => {
    const v0 = performance.now();
    const report = await built.verifyLog(cw.db, vkey);
    if (!report.ok) throw new Error(`verification failed: ${JSON.stringify(report.problems.slice(0, 3))}`);
    return { report, seconds: (performance.now() - v0) / 1000 };
  };
  const firstVerifySeconds = (await verifyOnce()).seconds;
  // The faster of two settled runs, as the raw rate below is the fastest of three passes.
  const settled = [await verifyOnce(), await verifyOnce()].sort((a, b) => a.seconds - b.seconds);
  const { report, seconds: verifySeconds } = settled[0];
  // The same leaf bytes, read once into memory (not timed), then each hashed with SHA-256 on one
  // core: the raw rate verification is held against. Three ways, all measured: the digest as a
  // Buffer (the usual call), as a one-byte string (no ArrayBuffer per call), and through the native
  // addon verification uses. The target is held against the fastest.
  let bytes = 0;
  let hashSeconds = 0;
  let bufferHashSeconds = 0;
  let nativeHashSeconds = 0;
  const hasher = batchHasher();
  for (let from = 0; from < head.size; from += 50_000) {
    const chunk = (await cw.audit.log.leaves(from, Math.min(head.size, from + 50_000))).map((l) => l.leaf);
    // Each form's fastest of three passes over the chunk: the rate is not held down by a moment
    // in which the machine was busy elsewhere (that would flatter the ratio).
    const fastest = (pass: () => void) => {
      let best = Infinity;
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        pass();
        best = Math.min(best, (performance.now() - t) / 1000);
      }
      return best;
    };
    hashSeconds += fastest(() => {
      for (const leaf of chunk) crypto.hash('sha256', leaf, 'binary');
    });
    bufferHashSeconds += fastest(() => {
      for (const leaf of chunk) crypto.hash('sha256', leaf, 'buffer');
    });
    if (hasher.native) {
      // The addon verification uses, plain SHA-256 of each leaf: one call for the whole batch.
      const joined = Buffer.concat(chunk);
      const bounds = new Int32Array(2 * chunk.length);
      let at = 0;
      chunk.forEach((leaf, k) => {
        bounds[2 * k] = at;
        bounds[2 * k + 1] = at += leaf.length;
      });
      const out = Buffer.allocUnsafe(32 * chunk.length);
      nativeHashSeconds += fastest(() => hasher.sha256Each(joined, bounds, -1, out));
    }
    for (const leaf of chunk) bytes += leaf.length;
  }
  // What reading alone costs (the same binary COPY of bundles, tail and tiles verification uses), for context.
  const r0 = performance.now();
  for (let from = 0; from < head.size; from += CHUNK) await cw.db.copyOut(chunkSelect(from, cw.db.kind === 'postgres'));
  const readSeconds = (performance.now() - r0) / 1000;
  const verifyRate = head.size / verifySeconds;
  // Held against the fastest raw form measured, so that the ratio is not flattered.
  const rawRate = head.size / Math.min(hashSeconds, bufferHashSeconds, nativeHashSeconds || Infinity);
  process.stderr.write(
    `  verify ${verifyRate.toFixed(0)} records/s (first ${(head.size / firstVerifySeconds).toFixed(0)}), raw SHA-256 ${rawRate.toFixed(0)} leaves/s: ${(verifyRate / rawRate).toFixed(2)}; reading alone ${(head.size / readSeconds).toFixed(0)} records/s\n`,
  );

  const storedMegabytes = (await cw.db.query<{ n: number }>('select coalesce(sum(length(entries)), 0)::float8 as n from audit_bundle')).rows[0].n / 1e6;
  await server.close();
  writeReport(kind, version, {
    appendRate,
    pacedRate,
    fillSeconds,
    size: head.size,
    inclusion: { p50: pct(inclusion, 0.5), p99: pct(inclusion, 0.99) },
    consistency: { p50: pct(consistency, 0.5), p99: pct(consistency, 0.99) },
    verifySeconds,
    firstVerifySeconds,
    verifyRate,
    rawRate,
    storedMegabytes,
    recordReads: {
      one: { p50: pct(recordReads.one, 0.5), p99: pct(recordReads.one, 0.99) },
      page: { p50: pct(recordReads.page, 0.5), p99: pct(recordReads.page, 0.99) },
    },
    searches: Object.fromEntries(Object.entries(searches).map(([k, v]) => [k, { p50: pct(v, 0.5), p99: pct(v, 0.99) }])) as Record<
      'patient' | 'agent' | 'date',
      { p50: number; p99: number }
    >,
    megabytes: bytes / 1e6,
    hashSeconds,
    bufferHashSeconds,
    nativeHashSeconds,
    native: hasher.native,
    verifyNative: report.hashing === 'native',
    readSeconds,
    maintenance,
  });
}

/**
 * The embedded database's maintenance pass straight after the fill (what the server runs in a
 * quiet moment, embeddedMaintenance.ts), each table's VACUUM or ANALYZE timed: the engine is held
 * for that long, and requests arriving meanwhile wait.
 */
async function timedMaintenance(db: Queryable): Promise<{ seconds: number; longest: { table: string; seconds: number }; tables: number }> {
  const steps: Array<{ table: string; seconds: number }> = [];
  const timed: Queryable = {
    query: (sql, params) => db.query(sql, params),
    exec: async (sql) => {
      const t = performance.now();
      await db.exec(sql);
      steps.push({ table: sql.split(' ').at(-1) ?? sql, seconds: (performance.now() - t) / 1000 });
    },
  };
  const t0 = performance.now();
  await maintainEmbedded(timed);
  const seconds = (performance.now() - t0) / 1000;
  const longest = steps.reduce((a, b) => (b.seconds > a.seconds ? b : a), { table: '-', seconds: 0 });
  process.stderr.write(
    `  maintenance after the fill: ${seconds.toFixed(2)} s, ${steps.length} tables, longest ${longest.table} ${longest.seconds.toFixed(2)} s\n`,
  );
  return { seconds, longest, tables: steps.length };
}

function writeReport(
  kind: string,
  version: string,
  r: {
    appendRate: { total: number; appenders: number; reads: number; readP50: number; readP99: number };
    pacedRate: { total: number; appenders: number; reads: number; readP50: number; readP99: number };
    fillSeconds: number;
    size: number;
    inclusion: { p50: number; p99: number };
    consistency: { p50: number; p99: number };
    verifySeconds: number;
    firstVerifySeconds: number;
    verifyRate: number;
    rawRate: number;
    recordReads: { one: { p50: number; p99: number }; page: { p50: number; p99: number } };
    searches: Record<'patient' | 'agent' | 'date', { p50: number; p99: number }>;
    storedMegabytes: number;
    megabytes: number;
    hashSeconds: number;
    bufferHashSeconds: number;
    nativeHashSeconds: number;
    native: boolean;
    verifyNative: boolean;
    readSeconds: number;
    maintenance?: { seconds: number; longest: { table: string; seconds: number }; tables: number };
  },
) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const section = `## Audit log: appends, proofs and verification (${kind})

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}. Database: ${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL server on 127.0.0.1'} (PostgreSQL ${version}).

**Appends under concurrent reads**, ${SECONDS} s each: ${APPENDERS} in-process callers each append a chart-read record and wait for its
commit, while ${CONCURRENCY} HTTP clients read chart records (each read appends its own record), first back to back (the readers
take what CPU they can, and the appenders share the same ${os.cpus().length} cores with them and the database), then at a steady ${READ_RATE} reads/s.

| readers | records committed/s (all) | of which by the appenders | chart reads/s alongside | read p50 / p99 ms |
|---|---:|---:|---:|---:|
| back to back | **${r.appendRate.total.toFixed(0)}** | ${r.appendRate.appenders.toFixed(0)} | ${r.appendRate.reads.toFixed(0)} | ${r.appendRate.readP50.toFixed(1)} / ${r.appendRate.readP99.toFixed(1)} |
| ${READ_RATE} reads/s | **${r.pacedRate.total.toFixed(0)}** | ${r.pacedRate.appenders.toFixed(0)} | ${r.pacedRate.reads.toFixed(0)} | ${r.pacedRate.readP50.toFixed(1)} / ${r.pacedRate.readP99.toFixed(1)} |

**Proofs and record reads at ${r.size.toLocaleString('en')} records** (the log filled through the batch append path in ${r.fillSeconds.toFixed(0)} s): ${PROOFS} proofs
of each kind, from the stored subtree hashes, and records read back:

| | p50 ms | p99 ms |
|---|---:|---:|
| inclusion proof of a random record against the whole tree | **${r.inclusion.p50.toFixed(2)}** | ${r.inclusion.p99.toFixed(2)} |
| consistency proof from a random size to the whole tree | **${r.consistency.p50.toFixed(2)}** | ${r.consistency.p99.toFixed(2)} |
| reading back one random record (its bundle fetched and inflated), ${READS} times | ${r.recordReads.one.p50.toFixed(2)} | ${r.recordReads.one.p99.toFixed(2)} |
| reading back 50 random records (a page of search results, 50 bundles), ${READS} times | ${r.recordReads.page.p50.toFixed(2)} | ${r.recordReads.page.p99.toFixed(2)} |
| search: one patient's accesses (about ${Math.round(r.size / FILL_PATIENTS)}), newest 50 and the count, ${SEARCHES} patients | ${r.searches.patient.p50.toFixed(2)} | ${r.searches.patient.p99.toFixed(2)} |
| search: one clinician's accesses (about ${Math.round(r.size / 50).toLocaleString('en')}, named by every append batch of this fill), newest 50 and the count, 10 clinicians | ${r.searches.agent.p50.toFixed(2)} | ${r.searches.agent.p99.toFixed(2)} |
| search: one second of the fill, newest 50 and the count, 10 times | ${r.searches.date.p50.toFixed(2)} | ${r.searches.date.p99.toFixed(2)} |

**Full verification** (\`verifyLog\`, what \`carewall audit verify\` runs: every leaf read from the database and hashed, every
stored subtree hash compared, every checkpoint checked) against raw SHA-256 of the same ${r.megabytes.toFixed(0)} MB of leaf bytes in memory (stored as
${r.storedMegabytes.toFixed(0)} MB of compressed bundles):

| | records/s | MB/s | seconds |
|---|---:|---:|---:|
| raw SHA-256 of each leaf through node:crypto, digest as a Buffer (one core, bytes in memory) | ${(r.size / r.bufferHashSeconds).toFixed(0)} | ${(r.megabytes / r.bufferHashSeconds).toFixed(0)} | ${r.bufferHashSeconds.toFixed(2)} |
| raw SHA-256 of each leaf through node:crypto, digest as a string (one core, bytes in memory) | ${(r.size / r.hashSeconds).toFixed(0)} | ${(r.megabytes / r.hashSeconds).toFixed(0)} | ${r.hashSeconds.toFixed(2)} |
${
  r.native
    ? `| raw SHA-256 of each leaf through the native addon, 50,000 leaves a call (one core, bytes in memory) | ${(r.size / r.nativeHashSeconds).toFixed(0)} | ${(r.megabytes / r.nativeHashSeconds).toFixed(0)} | ${r.nativeHashSeconds.toFixed(2)} |
`
    : ''
}| full verification, the faster of two runs after the first (${r.verifyNative ? 'native batched hashing' : 'node:crypto: the native addon was not built'}; worker threads: ${Math.min(8, os.availableParallelism())}) | ${r.verifyRate.toFixed(0)} | ${(r.megabytes / r.verifySeconds).toFixed(0)} | ${r.verifySeconds.toFixed(2)} |
| **ratio against the fastest raw form** | **${(r.verifyRate / r.rawRate).toFixed(2)}** | | |
| the first verification after filling (the rows' first reading also writes their hint bits) | ${(r.size / r.firstVerifySeconds).toFixed(0)} | ${(r.megabytes / r.firstVerifySeconds).toFixed(0)} | ${r.firstVerifySeconds.toFixed(2)} |
| reading alone (the binary COPY of bundles, tail and tiles verification makes, no inflating or hashing) | ${(r.size / r.readSeconds).toFixed(0)} | ${(r.megabytes / r.readSeconds).toFixed(0)} | ${r.readSeconds.toFixed(2)} |

Targets: at least 10,000 appends/s (with readers back to back: ${r.appendRate.total >= 10_000 ? 'met' : 'not met'}; with ${READ_RATE} reads/s: ${r.pacedRate.total >= 10_000 ? 'met' : 'not met'}); verification at least half the raw SHA-256 rate (${r.verifyRate / r.rawRate >= 0.5 ? 'met' : 'not met'}).

Reading alone is ${((100 * r.readSeconds) / r.verifySeconds).toFixed(0)}% of verification's time here (it could go no faster than ${(r.size / r.readSeconds / r.rawRate).toFixed(2)} of the raw rate); the
rest is verification's own work: inflating every bundle, hashing every leaf and every interior node (twice the hashes the
raw rate counts) and comparing every stored hash, on worker threads that share the same ${os.cpus().length} cores with the database and the
thread reading from it.
${
  r.maintenance
    ? `
**The embedded database's maintenance after the fill** (the pass the server runs in a quiet moment: PGlite has no
autovacuum; src/db/embeddedMaintenance.ts): ${r.maintenance.tables} tables vacuumed or analysed in ${r.maintenance.seconds.toFixed(2)} s,
the longest \`${r.maintenance.longest.table}\` in ${r.maintenance.longest.seconds.toFixed(2)} s, during which the engine answers nothing else:
${(r.maintenance.longest.seconds / (r.appendRate.readP50 / 1000)).toFixed(0)} times a chart read's median time under load above.
`
    : ''
}`;
  writeSection(section);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
