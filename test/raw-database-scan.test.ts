/**
 * The security property behind encryption at rest: a raw copy of the database (the embedded
 * database's files, WAL included, or a pg_dump of the PostgreSQL database) contains no patient's
 * name, identifier, birth date, address, phone number or clinical text.
 *
 * The scan is checked against positive controls (values that ARE stored readably: resource ids, a
 * table name, staff usernames) so that it cannot pass just because it read nothing, and a control
 * test runs the same scan over a copy whose bodies were stored unencrypted, which it must catch.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { seedDemoClinic } from '../src/demo/seed.js';
import { createLogger } from '../src/log.js';
import type { BodyCodec } from '../src/records/store.js';
import { InventoryService } from '../src/inventory/index.js';
import { openCarewall, type Carewall } from '../src/runtime.js';
import { prepareInstallation } from './helpers/harness.js';

const PATIENTS = 20;
/** Shorter values could turn up by chance in binary data (ciphertext, catalogs) and prove nothing. */
const MIN_LENGTH = 5;

interface Secret {
  what: string;
  value: string;
}

async function all(cw: Carewall, type: string): Promise<any[]> {
  const bundle = await cw.fhir.search(SYSTEM, type, { _count: ['1000'] }, new URL(`http://localhost/fhir/${type}`));
  return (bundle.entry ?? []).map((e) => e.resource);
}

/** What the seeder wrote for patients, read back through the service (so: what is really stored). */
async function patientSecrets(cw: Carewall): Promise<Secret[]> {
  const out: Secret[] = [];
  const add = (what: string, value: unknown) => typeof value === 'string' && out.push({ what, value });
  for (const p of await all(cw, 'Patient')) {
    const name = p.name[0];
    add('family name', name.family);
    for (const g of name.given) add('given name', g);
    add('full name', `${name.given.join(' ')} ${name.family}`);
    add('full name', `${name.given[0]} ${name.family}`);
    add('name as filed', `${name.family}, ${name.given[0]}`);
    add('identifier', p.identifier[0].value);
    add('birth date', p.birthDate);
    add('address line', p.address[0].line[0]);
    add('city', p.address[0].city);
    add('phone', p.telecom[0].value);
  }
  for (const c of await all(cw, 'Condition')) add('condition text', c.code.text);
  for (const a of await all(cw, 'AllergyIntolerance')) add('allergy text', a.code.text);
  for (const m of await all(cw, 'MedicationRequest')) add('medication text', m.medicationCodeableConcept.text);
  for (const r of await all(cw, 'DiagnosticReport')) add('report conclusion', r.conclusion);
  for (const d of await all(cw, 'DocumentReference')) {
    const data: string = d.content[0].attachment.data;
    add('note (base64)', data);
    // Line by line, so that a note stored in pieces would still be caught.
    for (const line of Buffer.from(data, 'base64').toString('utf8').split('\n')) add('note text', line);
  }
  return out;
}

/** Every file under `dir`, recursively: data files, WAL, everything the folder's backup would hold. */
function readTree(dir: string): Buffer[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return readTree(full);
    return e.isFile() ? [fs.readFileSync(full)] : [];
  });
}

/**
 * The raw bytes reduced to their runs of text-like bytes (ASCII printable, tab/newline, and bytes
 * of multi-byte UTF-8), ASCII-lower-cased so one search covers every case variant. A stored value is
 * one contiguous run, so nothing is lost; the zero-filled pages that make up most of the files are,
 * which keeps a thousand searches fast.
 */
function textRuns(chunks: Buffer[]): string {
  const runs: string[] = [];
  for (const buf of chunks) {
    let start = -1;
    for (let i = 0; i <= buf.length; i++) {
      const b = i < buf.length ? buf[i] : 0;
      const texty = (b >= 0x20 && b !== 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d;
      if (texty && start < 0) start = i;
      else if (!texty && start >= 0) {
        if (i - start >= MIN_LENGTH) {
          const run = Buffer.from(buf.subarray(start, i));
          for (let j = 0; j < run.length; j++) if (run[j] >= 0x41 && run[j] <= 0x5a) run[j] += 0x20;
          runs.push(run.toString('latin1'));
        }
        start = -1;
      }
    }
  }
  return runs.join('\u0000');
}

/**
 * The forms a value could take in the copy: as text (UTF-8 bytes read as latin1; the haystack is
 * lower-cased, so this covers every case), and as hex, which is how pg_dump writes bytea — in the
 * case written, lower and upper.
 */
function forms(value: string): string[] {
  const hex = (v: string) => Buffer.from(v, 'utf8').toString('hex');
  return [Buffer.from(value, 'utf8').toString('latin1').toLowerCase(), ...new Set([hex(value), hex(value.toLowerCase()), hex(value.toUpperCase())])];
}

interface Scan {
  secrets: Secret[];
  found(value: string): boolean;
  patientId: string;
  usernames: string[];
}

/**
 * Seeds a fresh installation, closes it, and returns a scanner over its raw copy: on PGlite every
 * file of the data folder (the Carewall must be closed, not deleted, hence no startTestServer), on
 * PostgreSQL the output of pg_dump.
 */
async function seedAndCopy(patients: number, codec?: BodyCodec): Promise<Scan> {
  const inst = await prepareInstallation();
  let cw: Carewall | undefined = await openCarewall(inst.settings, createLogger('silent'));
  try {
    if (codec) {
      cw.fhir = cw.fhir.withCodec(codec);
      // The demo's equipment goes through the inventory, which must write with the same codec.
      cw.inventory = new InventoryService(cw.fhir, cw.updates, async () => undefined);
    }
    const seeded = await seedDemoClinic(cw, { patients, seed: 4711 });
    const secrets = await patientSecrets(cw);
    const patientId = (await all(cw, 'Patient'))[0].id as string;
    await cw.close();
    cw = undefined;
    const raw = inst.databaseUrl ? [execFileSync('pg_dump', ['--dbname', inst.databaseUrl], { maxBuffer: 1 << 30 })] : readTree(inst.dataDir);
    const haystack = textRuns(raw);
    return { secrets, patientId, usernames: seeded.logins.map((l) => l.username), found: (value) => forms(value).some((f) => haystack.includes(f)) };
  } finally {
    await cw?.close();
    await inst.cleanup();
  }
}

const KINDS = [
  'family name',
  'given name',
  'full name',
  'identifier',
  'birth date',
  'address line',
  'city',
  'phone',
  'condition text',
  'note text',
  'note (base64)',
];
const where = process.env.DATABASE_URL ? 'pg_dump' : 'database files';

test(`a raw copy of the database (${where}) holds no patient name, identifier, birth date, address, phone or clinical text`, async () => {
  const scan = await seedAndCopy(PATIENTS);
  // Positive controls: stored readably by design, so a scan that works must find them.
  assert.ok(scan.found(scan.patientId), 'the scan finds a resource id (stored in plaintext)');
  assert.ok(scan.found('records_version'), 'the scan finds a table name');
  assert.ok(scan.found(scan.usernames[0]), 'the scan finds a staff username');

  // Staff usernames are stored readably (they are not patient data); a patient sharing a staff
  // member's name would be "found" in them, so such single names are left to the full-name checks.
  const staff = scan.usernames.join(' ');
  const checked = scan.secrets.filter(
    (s) => s.value.length >= MIN_LENGTH && !(/ name$/.test(s.what) && s.what !== 'full name' && staff.includes(s.value.toLowerCase())),
  );
  const kinds = new Set(checked.map((s) => s.what));
  for (const k of KINDS) assert.ok(kinds.has(k), `the scan checks some ${k}`);
  assert.ok(checked.length > PATIENTS * 10);

  const leaks = checked.filter((s) => scan.found(s.value)).map((s) => `${s.what}: ${s.value}`);
  assert.deepEqual([...new Set(leaks)], [], `readable patient data in the raw ${where}`);
});

test(`control: the same scan finds the patient data when bodies are stored unencrypted (${where})`, async () => {
  const plaintext: BodyCodec = { seal: (_scope, p) => p, open: (_scope, b) => b };
  const scan = await seedAndCopy(8, plaintext);
  const checked = scan.secrets.filter((s) => s.value.length >= MIN_LENGTH);
  // Full names and decoded note text are not contiguous in a FHIR JSON body ({"family":..,"given":[..]},
  // base64 attachment data): those checks are for other shapes of leak (a display column, a log).
  const inJson = checked.filter((s) => !['full name', 'name as filed', 'note text'].includes(s.what));
  const seen = inJson.filter((s) => scan.found(s.value));
  for (const k of KINDS.filter((k) => k !== 'full name' && k !== 'note text'))
    assert.ok(
      seen.some((s) => s.what === k),
      `the scan detects a readable ${k}`,
    );
  // Large bodies may be compressed by the database (TOAST), which hides them from a byte scan; most are not.
  assert.ok(seen.length >= inJson.length * 0.8, `found ${seen.length} of ${inJson.length}`);
});
