/**
 * `npm test`: every test file, in a few processes instead of one process per file.
 *
 * Why: each test process pays about 3 s of CPU before its first assertion (tsx's loader, importing
 * all of Carewall, the first server's warm-up), and the suite is CPU-bound on two cores: with ~110
 * files that was a third of the suite. Here the files are dealt into shards, each shard one process
 * that runs its files one after another, each file as a suite of its own (named by the file), with
 * its own hooks; node's runner runs the two or three shards at once. A file still runs alone
 * (`node test/run.mjs test/x.test.ts`; directly under tsx too, but a test that starts the real
 * binary then needs the build current, see test/helpers/builtBinary.mjs).
 *
 * Files are dealt heaviest first to the lightest shard, by the CPU seconds each took when measured
 * (test/helpers/fileWeights.json; a file not listed counts as a middling one), so the shards end
 * close together. Arguments name files to run instead of all of them; `--shards N` sets the count.
 *
 * Plain JavaScript: it runs before anything is compiled, and starts the processes that load tsx.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bringBuildUpToDate } from './helpers/builtBinary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEST_DIR = path.join(ROOT, 'test');
/** A file without a measured weight: about the median file. */
const DEFAULT_WEIGHT = 8;
/**
 * Shards at a time. On the embedded database the tests are CPU-bound: two (a core each); a third
 * made the run slower (485 s against 467 s). On a PostgreSQL server part of the work is the server's
 * own processes, and a test process often waits on it: a third kept both cores busy (305 s against
 * 360 s). Measured on 2 cores, test/run.mjs's first version.
 */
const CONCURRENCY = process.env.DATABASE_URL ? 3 : 2;
/**
 * As many shards as run at once: each shard process pays its start-up once, and dealing by weight
 * ends them close together. Measured on the 61 files of 14eff2d, 2 cores, PostgreSQL: 8 shards
 * 104 s, 3 shards 91 s; embedded: 8 shards 138 s, 2 shards 135 s.
 */
const DEFAULT_SHARDS = CONCURRENCY;

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {string[]} */
  const files = [];
  let shards = DEFAULT_SHARDS;
  /** @type {string[]} */
  const runnerFlags = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--shards') shards = Math.max(1, Number(argv[++i]) || DEFAULT_SHARDS);
    else if (arg.startsWith('--')) runnerFlags.push(arg);
    else files.push(path.resolve(arg));
  }
  if (files.length === 0) {
    for (const name of fs.readdirSync(TEST_DIR).sort()) if (name.endsWith('.test.ts')) files.push(path.join(TEST_DIR, name));
  }
  return { files, shards: Math.min(shards, files.length), runnerFlags };
}

/**
 * Longest processing time first: each file, heaviest first, to the shard with the least so far.
 * @param {string[]} files
 * @param {number} count
 * @param {Record<string, number>} weights
 * @returns {string[][]}
 */
function dealIntoShards(files, count, weights) {
  const weightOf = (/** @type {string} */ file) => weights[path.basename(file)] ?? DEFAULT_WEIGHT;
  const shards = Array.from({ length: count }, () => ({ load: 0, files: /** @type {string[]} */ ([]) }));
  const heaviestFirst = [...files].sort((a, b) => weightOf(b) - weightOf(a) || a.localeCompare(b));
  for (const file of heaviestFirst) {
    const lightest = shards.reduce((min, shard) => (shard.load < min.load ? shard : min));
    lightest.files.push(file);
    lightest.load += weightOf(file);
  }
  return shards.map((shard) => shard.files).filter((list) => list.length > 0);
}

/**
 * A shard's entry file: each test file imported inside a suite named after it, so its top-level
 * tests and hooks belong to that suite (node binds them to the suite being built).
 * @param {string[]} files
 */
function shardSource(files) {
  const entries = files.map((file) => [path.relative(ROOT, file), pathToFileURL(file).href]);
  return [
    "import { describe } from 'node:test';",
    `for (const [name, url] of ${JSON.stringify(entries)}) describe(name, async () => { await import(url); });`,
    '',
  ].join('\n');
}

const { files, shards, runnerFlags } = parseArgs(process.argv.slice(2));
// The tests that start the real binary start the build's; it must be the sources' (see the module).
bringBuildUpToDate();
const weights = JSON.parse(fs.readFileSync(path.join(TEST_DIR, 'helpers', 'fileWeights.json'), 'utf8'));
const shardDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-shards-'));
const shardFiles = dealIntoShards(files, shards, weights).map((list, i) => {
  const file = path.join(shardDir, `shard-${i + 1}.test.mjs`);
  fs.writeFileSync(file, shardSource(list));
  return file;
});

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    pathToFileURL(path.join(TEST_DIR, 'helpers', 'scratchOnTmpfs.mjs')).href,
    '--test',
    `--test-concurrency=${CONCURRENCY}`,
    // A shard ends once its tests are done. Without this, a shard whose tests had all passed once
    // spun at full CPU for half an hour inside Node's own exit (node::Environment::CleanupHandles
    // looping on uv_run, seen with gdb on Node 20.20, PostgreSQL run) and held CI until killed.
    '--test-force-exit',
    ...runnerFlags,
    ...shardFiles,
  ],
  {
    cwd: ROOT,
    stdio: 'inherit',
    // The suite opens a few hundred embedded databases, and PGlite zeroes its page cache at each
    // open (src/db/database.ts, embeddedBuffersMb): 16 MB instead of 128 MB holds every test's data.
    env: { ...process.env, CAREWALL_EMBEDDED_BUFFERS_MB: process.env.CAREWALL_EMBEDDED_BUFFERS_MB ?? '16' },
  },
);
const forward = (/** @type {NodeJS.Signals} */ signal) => child.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  fs.rmSync(shardDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
