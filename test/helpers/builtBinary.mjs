/**
 * The tests' real `carewall` binary is the build's `dist/cli/main.js`, what a clinic installs and
 * runs, rather than the sources under tsx. It is also cheaper: tsx's loader costs about a second of
 * CPU in every process it starts (a demo, a server, `--help`), and the suite starts a few dozen.
 *
 * So the build must not lag behind the sources. `test/run.mjs` calls `bringBuildUpToDate()` before
 * any test starts: when a file under src/ is newer than the last build it made, it runs the build's
 * own compiler (`tsc -p tsconfig.json`, incremental: only what changed is written again) and marks the
 * time it started. A test that starts the binary calls `assertBuildCurrent()`, so a file run some
 * other way after an edit stops with what to do instead of testing yesterday's code.
 *
 * Plain JavaScript: test/run.mjs runs before anything is compiled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCES = path.join(ROOT, 'src');
/** Inside dist/, so removing the build removes the mark with it. */
const STAMP = path.join(ROOT, 'dist', '.built-from-src');
export const BINARY = path.join(ROOT, 'dist', 'cli', 'main.js');

/** @param {string} dir @returns {number} */
function newestModification(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const time = entry.isDirectory() ? newestModification(full) : fs.statSync(full).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/** @returns {number} */
function stampTime() {
  try {
    return fs.statSync(STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

function isCurrent() {
  return fs.existsSync(BINARY) && stampTime() >= newestModification(SOURCES);
}

/** Compiles src/ into dist/ when a source is newer than the last build; exits on a compile error. */
export function bringBuildUpToDate() {
  if (isCurrent()) return;
  // The start, not the end: a source saved while the compiler runs is newer than the mark.
  const started = new Date();
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('test/run.mjs: the build (tsc -p tsconfig.json) failed; the tests start the built binary');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(STAMP, `${started.toISOString()}\n`);
  fs.utimesSync(STAMP, started, started);
}

export function assertBuildCurrent() {
  if (!isCurrent()) {
    throw new Error('dist/ is older than src/: run the tests through `node test/run.mjs [files]` (npm test), which builds it first');
  }
}
