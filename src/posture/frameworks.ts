/**
 * The frameworks as data (issue 27): one JSON file per framework edition in src/posture/frameworks/,
 * read and checked here. A later edition (HICP 2026, say) is a new file beside the others; nothing
 * else changes. What the shipped file holds, and what in it is confirmed: docs/posture.md, Frameworks.
 *
 * Why JSON files read from src/posture/frameworks/ rather than imported: tsc does not copy JSON it is
 * not asked to import, and importing each file by name would make "add an edition" a code change.
 * So the folder itself ships (package.json `files` lists it) and is found relative to the package
 * root: this module sits two folders below the root both as src/posture/frameworks.ts (tsx, tests)
 * and as dist/posture/frameworks.js (the built package), so '../../src/posture/frameworks/' names the
 * same folder in either run — the way src/records/validate.ts finds definitions/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ClinicSize, Framework, FrameworkItem, PerformanceGoal, Practice, Threat } from './types.js';

export const FRAMEWORKS_DIR = new URL('../../src/posture/frameworks/', import.meta.url);

const SIZES: readonly ClinicSize[] = ['small', 'medium', 'large'];
const SIZE_LETTER: Record<string, ClinicSize> = { s: 'small', m: 'medium', l: 'large' };
const SLUG = /^[a-z][a-z0-9-]*$/;
/** `$comment` may annotate any object of a framework file (JSON has no comments); it is dropped on load. */
const COMMENT = '$comment';

/** A framework file that does not hold a well-formed framework; `problems` lists every fault found, each with its path. */
export class FrameworkError extends Error {
  constructor(
    readonly origin: string,
    readonly problems: string[],
  ) {
    super(`${origin}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n- ${problems.join('\n- ')}`}`);
    this.name = 'FrameworkError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the shape of a parsed framework and its references, and answers it as a `Framework` (without
 * `$comment`s). Throws a `FrameworkError` naming every problem: a missing or mistyped field, an id out
 * of form or used twice, a threat or goal naming a practice that does not exist, a practice with no
 * item for small or for medium organisations.
 */
export function validateFramework(value: unknown, origin = 'framework'): Framework {
  const problems: string[] = [];
  const fault = (path: string, text: string) => problems.push(`${path}: ${text}`);

  const fields = (o: Obj, path: string, known: string[]) => {
    for (const key of Object.keys(o)) if (key !== COMMENT && !known.includes(key)) fault(path, `unknown field "${key}"`);
    if (COMMENT in o && typeof o[COMMENT] !== 'string') fault(`${path}.${COMMENT}`, 'must be a string');
  };
  const str = (o: Obj, key: string, path: string, form?: RegExp): string => {
    const v = o[key];
    if (typeof v !== 'string' || v.trim() === '') {
      fault(`${path}.${key}`, 'must be a non-empty string');
      return '';
    }
    if (form && !form.test(v)) fault(`${path}.${key}`, `"${v}" is not of the form ${form}`);
    return v;
  };
  const arr = (o: Obj, key: string, path: string): unknown[] => {
    const v = o[key];
    if (!Array.isArray(v)) {
      fault(`${path}.${key}`, 'must be an array');
      return [];
    }
    return v;
  };
  const strings = (o: Obj, key: string, path: string): string[] => {
    const out: string[] = [];
    arr(o, key, path).forEach((v, i) => (typeof v === 'string' && v !== '' ? out.push(v) : fault(`${path}.${key}[${i}]`, 'must be a non-empty string')));
    const seen = new Set<string>();
    for (const v of out) {
      if (seen.has(v)) fault(`${path}.${key}`, `"${v}" is listed twice`);
      seen.add(v);
    }
    return out;
  };

  if (!isObj(value)) throw new FrameworkError(origin, ['the file does not hold a JSON object']);
  fields(value, 'framework', ['id', 'edition', 'title', 'practices', 'threats', 'goals']);
  const id = str(value, 'id', 'framework', SLUG);
  const edition = str(value, 'edition', 'framework', /^[0-9A-Za-z][0-9A-Za-z.-]*$/);
  const title = str(value, 'title', 'framework');

  const ids = new Map<string, string>();
  const claim = (itemId: string, path: string) => {
    if (itemId === '') return;
    const first = ids.get(itemId);
    if (first) fault(path, `duplicate id "${itemId}" (first used at ${first})`);
    else ids.set(itemId, path);
  };

  const practiceForm = new RegExp(`^${id}-([1-9][0-9]*)$`);
  const practices: Practice[] = arr(value, 'practices', 'framework').map((p, pi): Practice => {
    const path = `practices[${pi}]`;
    if (!isObj(p)) {
      fault(path, 'must be an object');
      return { id: '', title: '', source: '', items: [] };
    }
    fields(p, path, ['id', 'title', 'source', 'items']);
    const pid = str(p, 'id', path, practiceForm);
    claim(pid, `${path}.id`);
    const number = practiceForm.exec(pid)?.[1];
    if (number !== undefined && Number(number) !== pi + 1) fault(`${path}.id`, `"${pid}" is out of order: practice ${pi + 1} expected here`);
    const itemForm = new RegExp(`^${pid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.([sml])\\.([a-z])$`);
    const items: FrameworkItem[] = arr(p, 'items', path).map((it, ii): FrameworkItem => {
      const ipath = `${path}.items[${ii}]`;
      if (!isObj(it)) {
        fault(ipath, 'must be an object');
        return { id: '', title: '', sizes: [], source: '', checks: [] };
      }
      fields(it, ipath, ['id', 'title', 'sizes', 'source', 'checks']);
      const iid = str(it, 'id', ipath, itemForm);
      claim(iid, `${ipath}.id`);
      const sizes = strings(it, 'sizes', ipath);
      sizes.forEach((s, si) => SIZES.includes(s as ClinicSize) || fault(`${ipath}.sizes[${si}]`, `"${s}" is not one of ${SIZES.join(', ')}`));
      if (sizes.length === 0) fault(`${ipath}.sizes`, 'names no size of organisation');
      const letter = itemForm.exec(iid)?.[1];
      if (letter && !sizes.includes(SIZE_LETTER[letter]))
        fault(`${ipath}.sizes`, `"${iid}" is a ${SIZE_LETTER[letter]} sub-practice but its sizes leave out ${SIZE_LETTER[letter]}`);
      return { id: iid, title: str(it, 'title', ipath), sizes: sizes as ClinicSize[], source: str(it, 'source', ipath), checks: strings(it, 'checks', ipath) };
    });
    for (const size of ['small', 'medium'] as const) {
      if (pid && !items.some((it) => it.sizes.includes(size))) fault(path, `practice "${pid}" has no item for ${size} organisations`);
    }
    return { id: pid, title: str(p, 'title', path), source: str(p, 'source', path), items };
  });
  const practiceIds = new Set(practices.map((p) => p.id).filter(Boolean));
  const refs = (o: Obj, path: string, owner: string): string[] => {
    const list = strings(o, 'practices', path);
    if (list.length === 0) fault(`${path}.practices`, `${owner} names no practice`);
    for (const ref of list) if (!practiceIds.has(ref)) fault(`${path}.practices`, `${owner} names unknown practice "${ref}"`);
    return list;
  };

  const threats: Threat[] = arr(value, 'threats', 'framework').map((t, ti): Threat => {
    const path = `threats[${ti}]`;
    if (!isObj(t)) {
      fault(path, 'must be an object');
      return { id: '', title: '', source: '', practices: [] };
    }
    fields(t, path, ['id', 'title', 'source', 'practices']);
    const tid = str(t, 'id', path, SLUG);
    claim(tid, `${path}.id`);
    return { id: tid, title: str(t, 'title', path), source: str(t, 'source', path), practices: refs(t, path, `threat "${tid}"`) };
  });

  const goals: PerformanceGoal[] = arr(value, 'goals', 'framework').map((g, gi): PerformanceGoal => {
    const path = `goals[${gi}]`;
    if (!isObj(g)) {
      fault(path, 'must be an object');
      return { id: '', kind: 'essential', title: '', source: '', practices: [] };
    }
    fields(g, path, ['id', 'kind', 'title', 'source', 'practices']);
    const gid = str(g, 'id', path, /^[a-z][a-z0-9-]*-[ex][1-9][0-9]*$/);
    claim(gid, `${path}.id`);
    const kind = g.kind;
    const letter = /-([ex])[0-9]+$/.exec(gid)?.[1];
    if (kind !== 'essential' && kind !== 'enhanced') fault(`${path}.kind`, 'must be "essential" or "enhanced"');
    else if (letter && letter !== (kind === 'essential' ? 'e' : 'x'))
      fault(`${path}.kind`, `"${gid}" is ${kind} but its id says ${letter === 'e' ? 'essential' : 'enhanced'}`);
    return {
      id: gid,
      kind: kind === 'enhanced' ? 'enhanced' : 'essential',
      title: str(g, 'title', path),
      source: str(g, 'source', path),
      practices: refs(g, path, `goal "${gid}"`),
    };
  });

  if (problems.length > 0) throw new FrameworkError(origin, problems);
  return { id, edition, title, practices, threats, goals };
}

/** Parses one framework file's text and checks it (`validateFramework`); a JSON syntax error is a `FrameworkError` too. */
export function parseFramework(text: string, origin = 'framework'): Framework {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FrameworkError(origin, [`not valid JSON (${(err as Error).message})`]);
  }
  return validateFramework(value, origin);
}

let shipped: Framework[] | undefined;

/**
 * Every framework edition in `dir` (default: the shipped folder), each checked, sorted by id then
 * edition. Two files holding the same id and edition are refused. The shipped set is read once.
 */
export function loadFrameworks(dir: URL = FRAMEWORKS_DIR): Framework[] {
  const isShipped = dir.href === FRAMEWORKS_DIR.href;
  if (isShipped && shipped) return shipped;
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  const seen = new Map<string, string>();
  const out = names.map((name) => {
    const framework = parseFramework(readFileSync(new URL(name, dir), 'utf8'), name);
    const key = `${framework.id}@${framework.edition}`;
    const first = seen.get(key);
    if (first) throw new FrameworkError(name, [`framework "${framework.id}" edition ${framework.edition} is also in ${first}`]);
    seen.set(key, name);
    return framework;
  });
  out.sort((a, b) => a.id.localeCompare(b.id) || compareEditions(a.edition, b.edition));
  if (isShipped) shipped = out.map(deepFreeze);
  return isShipped ? (shipped as Framework[]) : out;
}

/** The shipped frameworks are shared by every caller: frozen, so that no caller can change them for the others. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Editions compare by their numbers where they have them ('2023' < '2026', '2.1' < '2.10'). */
function compareEditions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The framework with this id: the given edition, or the latest edition when none is given; undefined when there is none. */
export function frameworkById(id: string, edition?: string, frameworks: Framework[] = loadFrameworks()): Framework | undefined {
  const editions = frameworks.filter((f) => f.id === id);
  if (edition !== undefined) return editions.find((f) => f.edition === edition);
  return editions.sort((a, b) => compareEditions(a.edition, b.edition)).at(-1);
}
