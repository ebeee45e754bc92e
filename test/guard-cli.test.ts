/**
 * `carewall guard` from the command line: the listing, clear refusals of bad arguments (a folder
 * that is no test share, an unknown behaviour, a snapshot folder inside the share, a missing
 * folder), and watch + simulate as separate processes raising an alarm line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { binaryCommand, runCli } from './helpers/cli.js';
import { until } from './helpers/poll.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-guard-cli-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('carewall guard (CLI)', () => {
  test('--list names the behaviours and the benign workloads', async () => {
    const r = await runCli(['guard', 'simulate', '--list']);
    assert.equal(r.code, 0, r.stderr);
    for (const name of [
      'overwrite',
      'move-encrypt-back',
      'copy-delete',
      'intermittent',
      'base64',
      'slow',
      'threads',
      'processes',
      'smallest-first',
      'newest-first',
      'ransom-note',
      'office-save',
      'git-checkout',
      'npm-install',
      'backup-inside',
    ])
      assert.match(r.stdout, new RegExp(`\\b${name}\\b`));
  });

  test('simulate refuses a folder that is not a test share, and unknown behaviours', async () => {
    const plain = path.join(work, 'plain');
    fs.mkdirSync(plain);
    fs.writeFileSync(path.join(plain, 'letter.txt'), 'keep me');
    let r = await runCli(['guard', 'simulate', '--dir', plain, '--behaviour', 'overwrite']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no \.carewall-test-share marker/);
    assert.equal(fs.readFileSync(path.join(plain, 'letter.txt'), 'utf8'), 'keep me');
    r = await runCli(['guard', 'simulate', '--dir', plain]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--behaviour/);
    r = await runCli(['guard', 'make-share', '--dir', path.join(work, 's'), '--files', '8']);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['guard', 'simulate', '--dir', path.join(work, 's'), '--behaviour', 'nonsense']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown behaviour 'nonsense'/);
    r = await runCli(['guard', 'simulate', '--dir', path.join(work, 's'), '--behaviour', 'overwrite', '--pace', 'fast']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /files per second/);
  });

  test('watch refuses a missing folder, a missing --alerts and a snapshot folder inside the share', async () => {
    let r = await runCli(['guard', 'watch', path.join(work, 'nope'), '--alerts', path.join(work, 'a.ndjson')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a folder/);
    r = await runCli(['guard', 'watch', work]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--alerts/);
    const share = path.join(work, 'inside');
    fs.mkdirSync(share);
    r = await runCli(['guard', 'watch', share, '--alerts', path.join(work, 'b.ndjson'), '--snapshot-dir', path.join(share, 'snap')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /outside the watched folders/);
  });

  test('watch and simulate as two processes: the alarm line arrives, and nothing printed names a file', async () => {
    const share = path.join(work, 'e2e');
    assert.equal((await runCli(['guard', 'make-share', '--dir', share, '--files', '40'])).code, 0);
    const alerts = path.join(work, 'e2e-alerts.ndjson');
    const child = spawn(process.execPath, [...binaryCommand(), 'guard', 'watch', share, '--alerts', alerts, '--decoys'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // A process starting and scanning the share: bounded generously (a loaded CI machine took over 10 s).
      await until('guard watch says it is watching', () => /guard: watching/.test(err) || child.exitCode !== null, { tries: 1200 });
      assert.match(err, /guard: watching \d+ files in \d+ folders, \d+ decoys planted/);
      const r = await runCli(['guard', 'simulate', '--dir', share, '--behaviour', 'random', '--pace', '40', '--limit', '10']);
      assert.equal(r.code, 0, r.stderr);
      await until(
        () => `an ALARM line on the console (so far: ${err})`,
        () => /ALARM/.test(err) || child.exitCode !== null,
      );
      assert.match(err, /ALARM/, 'the watcher ended without an alarm');
      const line = JSON.parse(fs.readFileSync(alerts, 'utf8').split('\n')[0]);
      assert.ok(['critical', 'high'].includes(line.severity));
    } finally {
      child.kill('SIGTERM');
    }
    // Stopped, it has judged every change in flight and printed all it will: the whole output is here.
    assert.equal(await exited, 0, err);
    const lines = err.split('\n').filter(Boolean);
    assert.match(lines[0], /^guard: watching \d+ files in \d+ folders, \d+ decoys planted; alarms to /);
    const alarms = lines.slice(1);
    assert.ok(alarms.length >= 1, err);
    for (const l of alarms) assert.match(l, /^ALARM \S+ (critical|high): \d+ file\(s\) in this alarm, \d+ affected so far; see /);
    assert.doesNotMatch(err, /\.docx|\.pdf|\.dcm|\.jpg|\.txt|Patients/, 'no file names on the console');
  });
});
