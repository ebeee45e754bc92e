/**
 * The real-binary tests start the build's dist/cli/main.js (test/helpers/builtBinary.mjs). They must
 * never start a build older than the sources: a tree counts as built only when its binary exists and
 * its build mark is no older than every file under src/, however deep. Times are set explicitly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildIsCurrent } from './helpers/builtBinary.mjs';
import { tempDir } from './helpers/tempDir.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

const BUILT = new Date('2026-12-07T10:00:00Z');

/** A work tree with two sources (one nested) from before the build, its binary and its mark. */
function builtTree(): string {
  const root = tempDir('carewall-built-');
  roots.push(root);
  const write = (file: string, time: Date) => {
    const full = path.join(root, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, '// x\n');
    fs.utimesSync(full, time, time);
  };
  const before = new Date(BUILT.getTime() - 60_000);
  write('src/runtime.ts', before);
  write('src/records/search/params.ts', before);
  write('dist/cli/main.js', BUILT);
  write('dist/.built-from-src', BUILT);
  return root;
}

function touch(file: string, time: Date): void {
  fs.utimesSync(file, time, time);
}

describe('the built binary is the sources', () => {
  test('a build marked after every source is current', () => {
    assert.equal(buildIsCurrent(builtTree()), true);
  });

  test('a source saved after the build, even deep in a folder, makes it stale', () => {
    const root = builtTree();
    touch(path.join(root, 'src/records/search/params.ts'), new Date(BUILT.getTime() + 1));
    assert.equal(buildIsCurrent(root), false);
  });

  test('a new source file after the build makes it stale', () => {
    const root = builtTree();
    const added = path.join(root, 'src/notify/new.ts');
    fs.mkdirSync(path.dirname(added), { recursive: true });
    fs.writeFileSync(added, '// new\n');
    touch(added, new Date(BUILT.getTime() + 1000));
    assert.equal(buildIsCurrent(root), false);
  });

  test('no mark, or no binary, is no build', () => {
    const unmarked = builtTree();
    fs.rmSync(path.join(unmarked, 'dist/.built-from-src'));
    assert.equal(buildIsCurrent(unmarked), false);
    const noBinary = builtTree();
    fs.rmSync(path.join(noBinary, 'dist/cli/main.js'));
    assert.equal(buildIsCurrent(noBinary), false);
  });
});
