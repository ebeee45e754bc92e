/**
 * The posture frameworks as data (issue 27): the shipped HICP 2023 / HPH CPG file loads and passes
 * the checks, its structure is the document's (ten practices in order, five threats, essential and
 * enhanced goals, every reference resolving), and the checks refuse a broken framework with a
 * message that names the fault. The files ship: package.json `files` covers the folder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FRAMEWORKS_DIR, FrameworkError, frameworkById, loadFrameworks, parseFramework, validateFramework, type Framework } from '../src/posture/index.js';

const shippedText = readFileSync(new URL('hicp-2023.json', FRAMEWORKS_DIR), 'utf8');
const fresh = (): Record<string, unknown> & { practices: Array<Record<string, unknown>>; threats: Array<Record<string, unknown>> } => JSON.parse(shippedText);

const PRACTICES = [
  'Email protection systems',
  'Endpoint protection systems',
  'Identity and access management',
  'Data protection and loss prevention',
  'IT asset management',
  'Network management',
  'Vulnerability management',
  'Security operations center and incident response',
  'Network connected medical devices',
  'Cybersecurity oversight and governance',
];

test('the shipped folder loads and checks; HICP 2023 is found by id, with or without its edition', () => {
  const all = loadFrameworks();
  assert.ok(all.length >= 1);
  const hicp = frameworkById('hicp', '2023');
  assert.ok(hicp);
  assert.equal(hicp.edition, '2023');
  assert.equal(frameworkById('hicp'), hicp, 'the latest edition when none is named');
  assert.equal(frameworkById('hicp', '1999'), undefined);
  assert.equal(frameworkById('nist-csf'), undefined);
  assert.ok(!JSON.stringify(hicp).includes('$comment'), 'annotations are dropped on load');
  assert.throws(() => (hicp.practices as unknown as unknown[]).push({}), TypeError, 'the shared copy is frozen');
  assert.equal(loadFrameworks(), all, 'read once');
});

test('ten practices in the document order, each with items for small and medium organisations and well-formed ids', () => {
  const hicp = frameworkById('hicp', '2023') as Framework;
  assert.deepEqual(
    hicp.practices.map((p) => p.id),
    PRACTICES.map((_, i) => `hicp-${i + 1}`),
  );
  assert.deepEqual(
    hicp.practices.map((p) => p.title),
    PRACTICES,
  );
  for (const p of hicp.practices) {
    assert.ok(p.source.length > 0);
    assert.ok(
      p.items.some((i) => i.sizes.includes('small')),
      `${p.id} small`,
    );
    assert.ok(
      p.items.some((i) => i.sizes.includes('medium')),
      `${p.id} medium`,
    );
    for (const item of p.items) {
      const m = /^hicp-(\d+)\.([sml])\.([a-z])$/.exec(item.id);
      assert.ok(m, item.id);
      assert.equal(`hicp-${m[1]}`, p.id);
      const code = `${m[1]}.${m[2].toUpperCase()}.${m[3].toUpperCase()}`;
      assert.ok(item.source.includes(`sub-practice ${code}`), `${item.id} cites its section: ${item.source}`);
      assert.ok(item.source.includes(m[2] === 's' ? 'Technical Volume 1' : 'Technical Volume 2'), item.source);
      assert.deepEqual(item.checks, [], 'the mapping to measured checks is filled in later');
    }
  }
  // Medium sub-practices apply to large organisations too; large ones to large only.
  const items = hicp.practices.flatMap((p) => p.items);
  for (const item of items.filter((i) => i.id.includes('.m.'))) assert.deepEqual(item.sizes, ['medium', 'large']);
  for (const item of items.filter((i) => i.id.includes('.l.'))) assert.deepEqual(item.sizes, ['large']);
  const ids = items.map((i) => i.id);
  assert.equal(new Set(ids).size, ids.length);
});

test('five threats, each mitigated by a practice; every practice mitigates a threat', () => {
  const hicp = frameworkById('hicp', '2023') as Framework;
  assert.deepEqual(
    hicp.threats.map((t) => t.id),
    ['social-engineering', 'ransomware', 'equipment-data-loss', 'insider', 'medical-devices'],
  );
  const practiceIds = new Set(hicp.practices.map((p) => p.id));
  for (const t of hicp.threats) {
    assert.ok(t.practices.length > 0, t.id);
    for (const p of t.practices) assert.ok(practiceIds.has(p), `${t.id} → ${p}`);
  }
  for (const p of hicp.practices)
    assert.ok(
      hicp.threats.some((t) => t.practices.includes(p.id)),
      `${p.id} mitigates no threat`,
    );
  assert.deepEqual(hicp.threats.find((t) => t.id === 'medical-devices')?.practices.includes('hicp-9'), true);
});

test('essential and enhanced performance goals, numbered in their kind and mapped to practices', () => {
  const hicp = frameworkById('hicp', '2023') as Framework;
  const essential = hicp.goals.filter((g) => g.kind === 'essential');
  const enhanced = hicp.goals.filter((g) => g.kind === 'enhanced');
  assert.deepEqual(
    essential.map((g) => g.id),
    Array.from({ length: 10 }, (_, i) => `hph-cpg-e${i + 1}`),
  );
  assert.deepEqual(
    enhanced.map((g) => g.id),
    Array.from({ length: 10 }, (_, i) => `hph-cpg-x${i + 1}`),
  );
  const practiceIds = new Set(hicp.practices.map((p) => p.id));
  for (const g of hicp.goals) {
    assert.ok(g.practices.length > 0, g.id);
    for (const p of g.practices) assert.ok(practiceIds.has(p), `${g.id} → ${p}`);
    assert.match(g.source, /HPH Cybersecurity Performance Goals/);
  }
});

test('the checks refuse a broken framework and say what is wrong', () => {
  const duplicate = fresh();
  const firstItems = duplicate.practices[0].items as Array<Record<string, unknown>>;
  firstItems[1].id = firstItems[0].id;
  assert.throws(
    () => validateFramework(duplicate, 'dup.json'),
    (err: unknown) =>
      err instanceof FrameworkError &&
      /duplicate id "hicp-1\.s\.a" \(first used at practices\[0\]\.items\[0\]\.id\)/.test(err.message) &&
      err.message.startsWith('dup.json'),
  );

  const unknownPractice = fresh();
  (unknownPractice.threats[1].practices as string[]).push('hicp-11');
  assert.throws(() => validateFramework(unknownPractice, 'threat.json'), /threats\[1\]\.practices: threat "ransomware" names unknown practice "hicp-11"/);

  const noSmall = fresh();
  const practice7 = noSmall.practices[6];
  practice7.items = (practice7.items as Array<{ sizes: string[] }>).filter((i) => !i.sizes.includes('small'));
  assert.throws(() => validateFramework(noSmall), /practice "hicp-7" has no item for small organisations/);

  const outOfOrder = fresh();
  [outOfOrder.practices[0], outOfOrder.practices[1]] = [outOfOrder.practices[1], outOfOrder.practices[0]];
  assert.throws(() => validateFramework(outOfOrder), /"hicp-2" is out of order: practice 1 expected here/);

  const badItem = fresh();
  (badItem.practices[0].items as Array<Record<string, unknown>>)[0].id = 'hicp-1.x.a';
  (badItem.practices[0].items as Array<Record<string, unknown>>)[1].sizes = ['tiny'];
  assert.throws(
    () => validateFramework(badItem),
    (err: unknown) =>
      err instanceof FrameworkError &&
      err.problems.length >= 2 &&
      /is not of the form/.test(err.message) &&
      /"tiny" is not one of small, medium, large/.test(err.message),
  );

  const wrongKind = fresh();
  (wrongKind.goals as Array<Record<string, unknown>>)[0].kind = 'enhanced';
  assert.throws(() => validateFramework(wrongKind), /goals\[0\]\.kind: "hph-cpg-e1" is enhanced but its id says essential/);

  assert.throws(() => parseFramework('{ "id": ', 'broken.json'), /^FrameworkError: broken\.json: not valid JSON/);
  assert.throws(() => validateFramework([]), /does not hold a JSON object/);
});

test('a folder with a second edition: the latest is the default; the same edition twice is refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'carewall-frameworks-'));
  try {
    const url = pathToFileURL(dir + path.sep);
    writeFileSync(path.join(dir, 'hicp-2023.json'), shippedText);
    const later = fresh();
    later.edition = '2026';
    writeFileSync(path.join(dir, 'hicp-2026.json'), JSON.stringify(later));
    writeFileSync(path.join(dir, 'README.txt'), 'not a framework');
    const all = loadFrameworks(url);
    assert.deepEqual(
      all.map((f) => `${f.id}@${f.edition}`),
      ['hicp@2023', 'hicp@2026'],
    );
    assert.equal(frameworkById('hicp', undefined, all)?.edition, '2026');
    assert.equal(frameworkById('hicp', '2023', all)?.edition, '2023');

    writeFileSync(path.join(dir, 'hicp-2026-copy.json'), JSON.stringify(later));
    assert.throws(() => loadFrameworks(url), /framework "hicp" edition 2026 is also in hicp-2026(-copy)?\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the data ships: package.json files covers the folder the loader reads, which is the same from src/ and dist/', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('src/posture/frameworks'));
  const root = new URL('../', import.meta.url);
  assert.equal(FRAMEWORKS_DIR.href, new URL('src/posture/frameworks/', root).href);
  // The built module lives at dist/posture/frameworks.js: the same relative path reaches the same folder.
  assert.equal(new URL('../../src/posture/frameworks/', new URL('dist/posture/frameworks.js', root)).href, FRAMEWORKS_DIR.href);
});
