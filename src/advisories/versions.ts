/**
 * Versions as advisories and devices write them, and the ranges CSAF gives: `vers` ranges
 * (`vers:generic/>=2.0|<2.1.4`, the purl project's range syntax, which CSAF 2.0 names) and the
 * older vls form (`<=2.1`). Written here because no maintained JavaScript implementation of vers
 * exists; `semver` would refuse most firmware versions. Firmware versions are normalised before
 * comparison: a leading "v"/"version" dropped, "SP2" read as a fourth part ("V3.0 SP2" = 3.0.0.2),
 * letters after digits as a patch letter ("2.1.4b" after 2.1.4, before 2.1.5). What cannot be
 * read as such is not compared at all: the match is then marked uncertain, never guessed.
 */

/** Parts to compare, or undefined when the text is not a version this reads. */
export function versionParts(text: string): Array<number | string> | undefined {
  let t = text.trim().toLowerCase();
  t = t.replace(/^(version|ver\.?|v)\s*/, '');
  t = t.replace(/\s*(sp|service pack)\s*(\d+)$/, '.0.$2');
  if (!/^\d+([a-z]+\d*)?([._-]\d+([a-z]+\d*)?)*$/.test(t)) return undefined;
  const parts: Array<number | string> = [];
  for (const p of t.split(/[._-]/)) {
    const m = /^(\d+)([a-z]+\d*)?$/.exec(p);
    if (!m) return undefined;
    parts.push(Number(m[1]));
    if (m[2]) parts.push(m[2]);
  }
  return parts;
}

/** -1, 0, 1; undefined when either side is not a readable version. */
export function compareVersions(a: string, b: string): number | undefined {
  const x = versionParts(a);
  const y = versionParts(b);
  if (!x || !y) return undefined;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    if (p === undefined) return typeof q === 'string' ? -1 : q === 0 ? 0 : -1; // 2.1 = 2.1.0; 2.1.4 < 2.1.4b
    if (q === undefined) return typeof p === 'string' ? 1 : p === 0 ? 0 : 1;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    if (typeof p === 'string' && typeof q === 'string') return p < q ? -1 : 1;
    return typeof p === 'string' ? -1 : 1; // 2.1b (letters) before 2.1.1 (a number)
  }
  return 0;
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A range's constraints, or undefined when it is not vers or vls. */
export function parseRange(text: string): Array<{ op: Op; version: string }> | undefined {
  const t = text.trim();
  const body = t.startsWith('vers:') ? t.slice(t.indexOf('/') + 1) : t;
  if (t.startsWith('vers:') && !t.includes('/')) return undefined;
  if (body === '*') return [];
  const out: Array<{ op: Op; version: string }> = [];
  for (const raw of body.split('|')) {
    const m = /^\s*(>=|<=|!=|>|<|=)?\s*(.+?)\s*$/.exec(raw);
    if (!m || !m[2]) return undefined;
    out.push({ op: (m[1] ?? '=') as Op, version: m[2] });
  }
  return out;
}

/**
 * Whether `version` is in the range: true, false, or undefined when it cannot be decided. vers
 * semantics: equalities and exclusions first; then, with the bounds sorted by version, the version
 * lies between two neighbouring bounds (or beyond the outermost): inside when the bound below it
 * opens an interval (> or >=) and the bound above closes one (< or <=), so `>=1.0|<1.5|>=2.0|<2.3`
 * holds 1.2 and 2.1 but not 1.7.
 */
export function inRange(version: string, range: string): boolean | undefined {
  const cs = parseRange(range);
  if (!cs) return undefined;
  if (cs.length === 0) return true; // '*': every version
  const cmp = cs.map((c) => compareVersions(version, c.version));
  if (cmp.some((x) => x === undefined)) return undefined;
  if (cs.some((c, i) => c.op === '=' && cmp[i] === 0)) return true;
  if (cs.some((c, i) => c.op === '!=' && cmp[i] === 0)) return false;
  const bounds = cs.map((c, i) => ({ ...c, cmp: cmp[i]! })).filter((c) => c.op !== '=' && c.op !== '!=');
  if (bounds.length === 0) return false;
  if (bounds.some((b) => b.cmp === 0)) return bounds.some((b) => b.cmp === 0 && (b.op === '>=' || b.op === '<='));
  const below = bounds.filter((b) => b.cmp > 0).sort((x, y) => compareVersions(y.version, x.version) ?? 0)[0];
  const above = bounds.filter((b) => b.cmp < 0).sort((x, y) => compareVersions(x.version, y.version) ?? 0)[0];
  const opens = (b?: { op: string }) => b?.op === '>' || b?.op === '>=';
  const closes = (b?: { op: string }) => b?.op === '<' || b?.op === '<=';
  if (below && above) return opens(below) && closes(above);
  if (below) return opens(below); // beyond the highest bound: inside only if it opens an unbounded interval
  return closes(above); // below the lowest bound
}
