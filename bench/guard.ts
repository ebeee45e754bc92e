/**
 * Ransomware guard: files lost before the alarm per behaviour and pace (median and maximum over
 * seeds), with and without decoys (without them, the content detectors alone), and false alarms
 * per benign workload. The guard runs in this process; each attack runs as its own process
 * (src/guard/simulate/run.ts, what `carewall guard simulate` runs), as real ransomware would, and is
 * killed at the alarm. A file counts
 * as lost when its destruction began before the alarm's time. Writes its section of docs/benchmarks.md.
 *
 * GUARD_BENCH_QUICK=1 runs one seed and fewer paces (a development check, not the report).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEHAVIOURS, BENIGN, DECOY_MOVE_MS, Guard, makeShare } from '../src/guard/index.js';
import { Rng } from '../src/guard/formats.js';
import { writeSection } from './report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.GUARD_BENCH_QUICK === '1';
const ONLY = process.env.GUARD_BENCH_ONLY?.split(',');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-guard-bench-'));
const SHARE_FILES = 300;
const SEEDS = process.env.GUARD_BENCH_SEEDS ? process.env.GUARD_BENCH_SEEDS.split(',').map(Number) : QUICK ? [1] : [1, 2, 3];
const label = (pace: number): [string, number] => [pace === 0 ? 'flat out' : `${pace}/s`, pace];
/** GUARD_BENCH_PACES=40,0 runs only those paces (files per second, 0 flat out). */
const PACES: Array<[string, number]> = process.env.GUARD_BENCH_PACES
  ? process.env.GUARD_BENCH_PACES.split(',').map((x) => label(Number(x)))
  : QUICK
    ? [
        ['40/s', 40],
        ['flat out', 0],
      ]
    : [
        ['40/s', 40],
        ['400/s', 400],
        ['flat out', 0],
      ];

interface Trial {
  lost: number;
  alarmed: boolean;
  destroyed: number;
  ms?: number;
}

async function trial(base: string, behaviour: string, pace: number | undefined, seed: number, decoys: boolean, limit?: number): Promise<Trial> {
  const t0 = Date.now();
  const t = fs.mkdtempSync(path.join(work, 't-'));
  const share = path.join(t, 'share');
  fs.cpSync(base, share, { recursive: true, preserveTimestamps: true });
  const log = path.join(t, 'destroyed.ndjson');
  fs.writeFileSync(log, '');
  let alarmAt: number | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  const kill = () => {
    try {
      if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  };
  const g = new Guard({
    dirs: [share],
    alertsFile: path.join(t, 'alerts.ndjson'),
    decoys,
    onAlarm: (a) => {
      if (alarmAt === undefined) {
        alarmAt = Date.parse(a.time);
        kill(); // the response a real deployment gives (read-only share) stops the attack; here the process goes
      }
    },
  });
  await g.start();
  const args = [
    '--import',
    'tsx',
    path.join(ROOT, 'src/guard/simulate/run.ts'),
    share,
    behaviour,
    pace === undefined ? 'default' : String(pace),
    String(seed),
    log,
  ];
  if (limit !== undefined) args.push(String(limit));
  const started = Date.now();
  await new Promise<void>((resolve) => {
    child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore', detached: true });
    child.on('exit', () => resolve());
  });
  await new Promise((r) => setTimeout(r, 400)); // the last events of the attack
  await g.settle();
  await g.stop();
  const decoySet = new Set(g.decoyPaths);
  const rows = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { path: string; t: number })
    .filter((r) => !decoySet.has(r.path));
  fs.rmSync(t, { recursive: true, force: true });
  if (process.env.GUARD_BENCH_TIMING) process.stderr.write(`  trial took ${Date.now() - t0} ms (attack ${Date.now() - started} ms)\n`);
  const lost = rows.filter((r) => alarmAt === undefined || r.t < alarmAt).length;
  if (process.env.GUARD_BENCH_TIMING)
    process.stderr.write(
      `  destroyed at +${rows
        .slice(0, 6)
        .map((r) => r.t - started)
        .join(', +')} ms; alarm at +${alarmAt !== undefined ? alarmAt - started : '-'} ms\n`,
    );
  return { lost, alarmed: alarmAt !== undefined, destroyed: rows.length, ms: alarmAt !== undefined ? alarmAt - started : undefined };
}

async function benign(base: string, name: string, seed: number, decoys: boolean): Promise<number> {
  const w = BENIGN[name];
  const t = fs.mkdtempSync(path.join(work, 'b-'));
  const share = path.join(t, 'share');
  fs.cpSync(base, share, { recursive: true, preserveTimestamps: true });
  const rng = new Rng(seed);
  await w.prepare?.(share, rng);
  const g = new Guard({ dirs: [share], alertsFile: path.join(t, 'alerts.ndjson'), decoys, exclude: w.exclude?.map((e) => path.join(share, e)) });
  await g.start();
  await w.run(share, rng);
  // With decoys, long enough for a decoy whose folder went to be missed (DECOY_MOVE_MS): a folder
  // deleted with its decoys is an alarm by design, and the table must show it.
  await new Promise((r) => setTimeout(r, decoys ? DECOY_MOVE_MS + 500 : 500));
  await g.settle();
  await g.stop();
  const n = g.alarms.length;
  if (n > 0) process.stderr.write(`  false alarm on ${name}: ${g.alarms.map((a) => a.reason).join(' | ')}\n`);
  fs.rmSync(t, { recursive: true, force: true });
  return n;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const base = path.join(work, 'base');
  const made = await makeShare(base, { files: SHARE_FILES, seed: 20261201 });
  process.stderr.write(`test share: ${made.files} files, ${(made.bytes / 1e6).toFixed(1)} MB, ${made.folders} folders\n`);
  const rows: string[] = [];
  let worst40 = 0;
  const medians40: number[] = [];
  for (const name of Object.keys(BEHAVIOURS)) {
    if (ONLY && !ONLY.includes(name)) continue;
    const paces: Array<[string, number | undefined]> = name === 'slow' ? [['1/min (real pace, 6 files at most)', undefined]] : PACES;
    for (const [label, pace] of paces) {
      const cells: string[] = [];
      for (const decoys of [false, true]) {
        const seeds = name === 'slow' ? [1] : SEEDS;
        const trials: Trial[] = [];
        for (const seed of seeds) trials.push(await trial(base, name, pace, seed, decoys, name === 'slow' ? 6 : undefined));
        const lost = trials.map((x) => x.lost);
        const missed = trials.filter((x) => !x.alarmed).length;
        cells.push(`${median(lost)} / ${Math.max(...lost)}${missed ? ` (${missed} of ${trials.length} runs: no alarm)` : ''}`);
        if (pace === 40 || name === 'slow') {
          worst40 = Math.max(worst40, ...lost);
          medians40.push(median(lost));
        }
        process.stderr.write(`${name} ${label} decoys=${decoys}: lost ${lost.join(',')}${missed ? ` missed ${missed}` : ''}\n`);
      }
      rows.push(`| ${name}${BEHAVIOURS[name].heldOut ? ' (held out)' : ''} | ${label} | ${cells[0]} | ${cells[1]} |`);
    }
  }
  const brows: string[] = [];
  let falseAlarms = 0;
  for (const [name, w] of Object.entries(BENIGN)) {
    if (ONLY && !ONLY.includes(name)) continue;
    if (w.available && !w.available()) {
      brows.push(`| ${name} | not run: tool not installed | |`);
      continue;
    }
    const counts: number[] = [];
    for (const seed of QUICK ? [1] : [1, 2]) for (const decoys of [false, true]) counts.push(await benign(base, name, seed, decoys));
    falseAlarms += counts.reduce((a, b) => a + b, 0);
    brows.push(`| ${name} | ${counts.length} | ${counts.reduce((a, b) => a + b, 0)} |`);
    process.stderr.write(`benign ${name}: ${counts.join(',')}\n`);
  }
  const section = [
    '## Ransomware guard: files lost before the alarm, false alarms',
    '',
    `${os.cpus().length} cores (load average over the run's last 15 minutes: ${os.loadavg()[2].toFixed(1)}; the machine is shared, and flat-out figures move with it), Node ${process.version}; a synthetic share of ${made.files} files (${(made.bytes / 1e6).toFixed(1)} MB, ${made.folders} folders: DOCX, PDF, JPEG, DICOM, TXT, CSV), copied afresh for every run. Each attack is its own process, killed at the alarm; a file is lost when its destruction began before the alarm. Median / maximum over ${SEEDS.length} seeds (traversal order and keys); "no decoys" is the content detectors alone. The decoys are two per folder, and this share has about ${(made.files / made.folders).toFixed(1)} files per folder, more decoys per real file than a real share: read the decoy column as the best case.`,
    '',
    '| Behaviour | Pace | Lost, no decoys (median / max) | Lost, with decoys (median / max) |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Target at 40 files/s: median at most 3, never more than 20 — ${medians40.every((m) => m <= 3) && worst40 <= 20 ? 'met' : 'not met'} (worst median ${Math.max(...medians40, 0)}, worst run ${worst40}; the slow behaviour included).`,
    '',
    '| Benign workload | Runs (with and without decoys) | False alarms |',
    '|---|---|---|',
    ...brows,
    '',
    `Target: no false alarm on the benign workloads — ${falseAlarms === 0 ? 'met' : `not met (${falseAlarms})`}.`,
    '',
  ].join('\n');
  if (QUICK || ONLY) process.stdout.write(section);
  else writeSection(section);
  fs.rmSync(work, { recursive: true, force: true });
}

await main();
