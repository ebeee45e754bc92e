/**
 * `carewall monitor scan|simulate` as outside tools run them: bad input is refused with the file and
 * line and leaves no alerts file; the scan streams (its heap stays small on a log far larger than it).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/harness.js';
import { at, TinyClinic } from './helpers/monitorFixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const fresh = () => {
  const d = tempDir('carewall-monitor-cli-');
  dirs.push(d);
  return d;
};

describe('carewall monitor', () => {
  test('scan writes one alert per line in the documented shape and a summary; --json prints it', async () => {
    const clinic = new TinyClinic();
    clinic.patient('star', { family: 'Famous', given: 'Vi', birthDate: '1975-05-05' }, ['VIP']);
    clinic.access('cardio-nurse-2', 'star', at(3, 10));
    const dir = clinic.write(fresh());
    const out = path.join(fresh(), 'alerts.ndjson');
    const r = await runCli(['monitor', 'scan', '--input', dir, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.alerts, 1);
    assert.ok(summary.explainedShare > 0.99 && summary.explainedShare < 1);
    assert.match(r.stderr, /explained: \d+\.\d% of accesses \(ward \d+\)/);
    assert.ok(Array.isArray(summary.watchList));
    assert.match(r.stderr, new RegExp(`${summary.watchList.length} more on the watch list`));
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const alert = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(alert).sort(), ['evidence', 'firstAccess', 'id', 'lastAccess', 'patients', 'scenario', 'score', 'user']);
    assert.equal(alert.user, 'Practitioner/cardio-nurse-2');
    assert.deepEqual(alert.patients, ['Patient/star']);
    assert.equal(alert.scenario, 'vip');
    assert.ok(!r.stderr.includes('Famous') && !fs.readFileSync(out, 'utf8').includes('Famous'), 'no patient names in output or logs');
  });

  test('a malformed line is refused naming file:line, exit code 1, and no alerts file is left', async () => {
    const clinic = new TinyClinic(3);
    const dir = clinic.write(fresh());
    const file = path.join(dir, 'AuditEvent.ndjson');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.splice(
      2,
      0,
      '{"resourceType":"AuditEvent", "recorded": "2025-03-03T10:00:00Z", "agent": [{"who": {"reference": "Practitioner/x"}}], "entity": [{"what": {"reference": "Patient/Secret-Name"',
    );
    fs.writeFileSync(file, lines.join('\n'));
    const outDir = fresh();
    const out = path.join(outDir, 'alerts.ndjson');
    const r = await runCli(['monitor', 'scan', '--input', dir, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /AuditEvent\.ndjson:3: not valid JSON/);
    assert.ok(!r.stderr.includes('Secret-Name'), 'the bad line is not repeated');
    assert.deepEqual(fs.readdirSync(outDir), []);
  });

  test('an event without a time, a reference file of the wrong type and a missing folder are refused', async () => {
    const clinic = new TinyClinic(2);
    const dir = clinic.write(fresh());
    fs.appendFileSync(path.join(dir, 'AuditEvent.ndjson'), JSON.stringify({ resourceType: 'AuditEvent', agent: [] }) + '\n');
    const n = fs.readFileSync(path.join(dir, 'AuditEvent.ndjson'), 'utf8').trim().split('\n').length;
    const out = path.join(fresh(), 'a.ndjson');
    const r1 = await runCli(['monitor', 'scan', '--input', dir, '--out', out]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, new RegExp(`AuditEvent\\.ndjson:${n}: AuditEvent without a valid recorded time`));
    const dir2 = new TinyClinic(2).write(fresh());
    fs.writeFileSync(path.join(dir2, 'Patient.ndjson'), JSON.stringify({ resourceType: 'Observation', id: 'o' }) + '\n');
    const r2 = await runCli(['monitor', 'scan', '--input', dir2, '--out', out]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /Patient\.ndjson:1: expected a Patient/);
    const r3 = await runCli(['monitor', 'scan', '--input', path.join(fresh(), 'nope'), '--out', out]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /not a folder/);
    assert.ok(!fs.existsSync(out));
  });

  test('simulate is deterministic per seed and writes every input file and truth.ndjson', async () => {
    const a = fresh();
    const b = fresh();
    const c = fresh();
    const args = (out: string, seed: string) => ['monitor', 'simulate', '--seed', seed, '--users', '40', '--patients', '600', '--days', '10', '--out', out];
    for (const [out, seed] of [
      [a, '5'],
      [b, '5'],
      [c, '6'],
    ] as const)
      assert.equal((await runCli(args(out, seed))).code, 0);
    const files = [
      'AuditEvent',
      'Practitioner',
      'PractitionerRole',
      'Patient',
      'Encounter',
      'Appointment',
      'CareTeam',
      'ServiceRequest',
      'Location',
      'Organization',
      'truth',
    ].map((t) => `${t}.ndjson`);
    assert.deepEqual(fs.readdirSync(a).sort(), [...files].sort());
    for (const f of files) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs between two runs of one seed`);
    assert.ok(!fs.readFileSync(path.join(a, 'AuditEvent.ndjson')).equals(fs.readFileSync(path.join(c, 'AuditEvent.ndjson'))));
    const truth = fs
      .readFileSync(path.join(a, 'truth.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const t of truth) {
      assert.match(t.user, /^Practitioner\//);
      assert.ok(t.patients.every((p: string) => p.startsWith('Patient/')));
      assert.ok(t.window.start <= t.window.end);
    }
    const roles = fs
      .readFileSync(path.join(a, 'PractitionerRole.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(roles.every((r) => r.organization?.reference && r.period?.start && typeof r.active === 'boolean'));
    const patients = fs.readFileSync(path.join(a, 'Patient.ndjson'), 'utf8');
    assert.match(patients, /"code":"EMP"/);
  });

  test('streaming: a scan of a log far larger than its heap limit finishes with a small heap', async () => {
    // 400,000 events (about 140 MB of NDJSON, over 400 MB once parsed and kept): run with a 96 MB heap.
    const clinic = new TinyClinic(14);
    const dir = clinic.write(fresh());
    const file = path.join(dir, 'AuditEvent.ndjson');
    const stream = fs.createWriteStream(file);
    const { nurses, patients, hosts } = clinic.wards.cardio;
    const total = 400_000;
    let chunk: string[] = [];
    for (let i = 0; i < total; i++) {
      const t = new Date(at(Math.floor((i / total) * 14), 8) + (i % 20000) * 1000).toISOString();
      chunk.push(
        JSON.stringify({
          resourceType: 'AuditEvent',
          id: `e${i}`,
          subtype: [{ code: 'read' }],
          recorded: t,
          agent: [{ who: { reference: `Practitioner/${nurses[i % nurses.length]}` }, requestor: true, network: { address: hosts[i % 2] } }],
          entity: [{ what: { reference: `Patient/${patients[(i * 7) % patients.length]}` } }],
        }),
      );
      if (chunk.length === 5000) {
        if (!stream.write(chunk.join('\n') + '\n')) await new Promise<void>((r) => stream.once('drain', () => r()));
        chunk = [];
      }
    }
    await new Promise<void>((r) => stream.end(() => r()));
    const bytes = fs.statSync(file).size;
    assert.ok(bytes > 100 * 2 ** 20, `${bytes} bytes`);
    const child = spawn(process.execPath, ['--max-old-space-size=96', '--import', 'tsx', path.join(ROOT, 'test/helpers/monitorMemoryChild.ts'), dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, err.slice(-500));
    const result = JSON.parse(out);
    assert.equal(result.events, total);
    assert.ok(result.peakHeapBytes < 80 * 2 ** 20, `peak heap ${(result.peakHeapBytes / 2 ** 20).toFixed(0)} MiB`);
  });
});
