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
/** Inside dist/, so removing the build removes the mark with it. */
const STAMP = path.join('dist', '.built-from-src');
const BINARY_IN_TREE = path.join('dist', 'cli', 'main.js');
export const BINARY = path.join(ROOT, BINARY_IN_TREE);

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

/**
 * True when the tree's binary exists and its build is marked no older than every file under src/.
 * @param {string} root the work tree
 */
export function buildIsCurrent(root = ROOT) {
  let marked;
  try {
    marked = fs.statSync(path.join(root, STAMP)).mtimeMs;
  } catch {
    return false;
  }
  return fs.existsSync(path.join(root, BINARY_IN_TREE)) && marked >= newestModification(path.join(root, 'src'));
}

/** Compiles src/ into dist/ when a source is newer than the last build; exits on a compile error. */
export function bringBuildUpToDate() {
  if (buildIsCurrent()) return;
  // The start, not the end: a source saved while the compiler runs is newer than the mark.
  const started = new Date();
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('test/run.mjs: the build (tsc -p tsconfig.json) failed; the tests start the built binary');
    process.exit(result.status ?? 1);
  }
  const stamp = path.join(ROOT, STAMP);
  fs.writeFileSync(stamp, `${started.toISOString()}\n`);
  fs.utimesSync(stamp, started, started);
}

export function assertBuildCurrent() {
  if (!buildIsCurrent()) {
    throw new Error('dist/ is older than src/: run the tests through `node test/run.mjs [files]` (npm test), which builds it first');
  }
}
