/**
 * Sharding by patient compartment (Citus), checked against the current schema: which tables would
 * be distributed by patient, which would be reference tables and which stay on the coordinator, and
 * which of the SQL statements the code runs would touch more than one patient (docs/sharding.md).
 *
 *   node --import tsx scripts/shard-check.ts [--json]
 *
 * How: a scratch embedded database (PGlite, in memory) gets every migration Carewall runs
 * (`ALL_MIGRATIONS`), and its catalog says which tables and columns exist. Then every string and
 * template literal under src/ that reads like SQL over one of those tables is analysed as text.
 * This is a heuristic: static text analysis of literals, not a SQL parser and not a query log.
 * SQL assembled in functions (a template with `${...}` holes, or a fragment that is not a whole
 * statement) is reported as "built at run time" at the literal's file:line, judged on what the
 * literal shows. A development tool: nothing under src/ imports it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------
// Tables

export type TableClass = 'distributed' | 'reference' | 'local' | 'audit-log';

export interface TableInfo {
  name: string;
  columns: string[];
  class: TableClass;
  /** The distribution column (distributed tables only). */
  distributionColumn?: string;
  /** True when the distribution column does not exist yet and must be added (rows reach their patient through a resource). */
  needsColumn?: boolean;
  why: string;
}

export interface Catalog {
  tables: Map<string, string[]>;
  /** SQL functions of the schema and their bodies. */
  functions: Map<string, string>;
}

/** Every migration applied to a scratch PGlite in memory; the catalog it leaves. */
export async function readCatalog(): Promise<Catalog> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { ALL_MIGRATIONS } = await import('../src/runtime.js');
  const db = new PGlite();
  try {
    for (const m of ALL_MIGRATIONS) await db.exec(m.sql);
    const cols = await db.query<{ table_name: string; cols: string[] }>(
      `select c.table_name::text as table_name, array_agg(c.column_name::text order by c.ordinal_position) as cols
       from information_schema.columns c join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
       where c.table_schema = 'public' and t.table_type = 'BASE TABLE' group by c.table_name order by 1`,
    );
    const fns = await db.query<{ name: string; body: string }>(
      `select p.proname::text as name, p.prosrc as body from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype`,
    );
    // schema_migrations is made by the migration runner, not by a migration: the runner's table on every installation.
    const tables = new Map(cols.rows.map((r) => [r.table_name, r.cols]));
    tables.set('schema_migrations', ['module', 'version', 'description', 'applied_at']);
    return { tables, functions: new Map(fns.rows.map((r) => [r.name, r.body])) };
  } finally {
    await db.close();
  }
}

/**
 * The rules, in order (each table takes the first that applies):
 * 1. `audit_*`: the audit log. Under sharding, one log per shard (leaves, tiles, tree head, search
 *    columns: the records about that shard's patients) and a log of logs on the coordinator (its
 *    signer, checkpoints, cosignatures, configuration seen and verifications stay local).
 * 2. A scalar `patient_id` column: distributed by it.
 * 3. `resource_type` and `id` columns (a row belongs to one FHIR resource, hence to its patient's
 *    compartment): distributed by patient, co-located with records_resource, once a `patient_id`
 *    column is added.
 * 4. Joined in some statement with a distributed table (found by the statement scan): a reference
 *    table, a copy on every worker, so that such joins run on the worker.
 * 5. Everything else: local to the coordinator (identity, keys, clients, backups, updates...).
 *    Tables that name several patients in one row (`patients` arrays) cannot follow one patient and
 *    land here too.
 */
/** Audit tables that stay on the coordinator: what signs, checkpoints and verifies the log of logs. */
const COORDINATOR_AUDIT = /^audit_(signer|checkpoint|cosignature|config_seen|verification)$/;

export function classifyTables(catalog: Catalog, joinedWithDistributed: Map<string, string> = new Map()): Map<string, TableInfo> {
  const out = new Map<string, TableInfo>();
  for (const [name, columns] of catalog.tables) {
    if (COORDINATOR_AUDIT.test(name)) {
      out.set(name, { name, columns, class: 'local', why: 'the log of logs: its signer, signed checkpoints, witnesses, verifications' });
    } else if (name.startsWith('audit_')) {
      out.set(name, { name, columns, class: 'audit-log', why: 'leaves, tiles, tree head or search columns of the log: one log per shard' });
    } else if (columns.includes('patient_id')) {
      out.set(name, { name, columns, class: 'distributed', distributionColumn: 'patient_id', why: 'has a patient_id column' });
    } else if (columns.includes('resource_type') && columns.includes('id')) {
      out.set(name, {
        name,
        columns,
        class: 'distributed',
        distributionColumn: 'patient_id',
        needsColumn: true,
        why: "rows belong to one resource (resource_type, id), hence to its patient's compartment; patient_id must be added",
      });
    }
  }
  for (const [name, columns] of catalog.tables) {
    if (out.has(name)) continue;
    const where = joinedWithDistributed.get(name);
    const several = columns.filter((c) => /^patients?$/.test(c));
    if (where) out.set(name, { name, columns, class: 'reference', why: `joined with a distributed table (${where})` });
    else
      out.set(name, {
        name,
        columns,
        class: 'local',
        why: several.length > 0 ? `names patients (${several.join(', ')}) across compartments; read by coordinator jobs` : 'never joined with patient data',
      });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SQL in the code

export interface SqlLiteral {
  file: string;
  line: number;
  /** The literal's text; a template's holes kept as `${expression}`. */
  text: string;
  /** Has `${...}` holes, or is a fragment of a statement: assembled at run time. */
  dynamic: boolean;
  /** The `sql` of a migration (run once, by the migration runner, on the coordinator: Citus propagates DDL). */
  migration?: boolean;
}

const SQL_START = /^\s*(\(?\s*select|insert\s+into|update\s+\w+|delete\s+from|with\s+(recursive\s+)?\w+\s+as|copy\s|truncate\s|lock\s+table)/i;
const SQL_WORDS = /\b(select|insert\s+into|update\s+\w+\s+set|delete\s+from|from|join)\b/i;
/** A table named at run time: `from ${name}`, `copy ${table} ...` (backups and restores go over every table). */
export const TABLE_HOLE = /\b(from|into|update|copy|truncate)\s+\$\{(name|[\w.]*table[\w.]*)\}/i;
const DDL = /\b(create\s+(unique\s+)?(table|index|function|or\s+replace\s+function|trigger)|alter\s+table|drop\s+(table|index))\b/i;

/** String and template literals of one TypeScript file that read like SQL; migrations' SQL marked, other DDL left out. */
export function extractSql(file: string, source: string, tableNames: Iterable<string>, functionNames: Iterable<string> = []): SqlLiteral[] {
  const mentions = new RegExp(`\\b(${[...tableNames].join('|')})\\b`, 'i');
  const fns = [...functionNames];
  const calls = fns.length > 0 ? new RegExp(`\\b(${fns.join('|')})\\s*\\(\\s*[^)\\s]`, 'i') : /$^/;
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: SqlLiteral[] = [];
  const visit = (node: ts.Node, insideSql: boolean) => {
    let text: string | undefined;
    let holes = false;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node)) {
      holes = true;
      text = node.head.text + node.templateSpans.map((s) => '${' + s.expression.getText(sf) + '}' + s.literal.text).join('');
    }
    let isSql = false;
    if (text !== undefined && !insideSql) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const sqlLike = (SQL_WORDS.test(text) && mentions.test(text)) || calls.test(text) || (SQL_START.test(text) && TABLE_HOLE.test(text));
      // A migration's `sql` (a property of that name holding SQL or DDL): counted, never analysed as a statement.
      if (ts.isPropertyAssignment(node.parent) && node.parent.name.getText(sf) === 'sql' && (sqlLike || DDL.test(text))) {
        out.push({ file, line, text, dynamic: holes, migration: true });
        isSql = true;
      } else if (sqlLike && !DDL.test(text)) {
        out.push({ file, line, text, dynamic: holes || !SQL_START.test(text) });
        isSql = true;
      }
    }
    // A literal inside an SQL template's hole is part of the statement already reported.
    ts.forEachChild(node, (child) => visit(child, insideSql || isSql));
  };
  visit(sf, false);
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// Statements

export type Placement = 'single-patient' | 'co-located' | 'multi-shard' | 'not-distributed';

export type FanOutKind =
  | 'search across patients'
  | 'by id, patient not named'
  | 'rows of several patients'
  | 'index row without its patient'
  | 'moves a row to another patient'
  | 'review queues across patients'
  | 'every table, named at run time'
  | 'audit log read'
  | 'audit log append';

export interface Statement extends SqlLiteral {
  tables: string[];
  distributed: string[];
  placement: Placement;
  kind?: FanOutKind;
  why: string;
}

const TABLE_POSITION = (name: string) => new RegExp(`\\b(from|join|into|update|table|copy|truncate|lateral)\\s+(only\\s+)?${name}\\b`, 'i');
const CALLS = (fn: string) => new RegExp(`\\b${fn}\\s*\\(`, 'i');

/** The tables a statement names in a from/join/into/update position, and those its functions read. */
export function tablesOf(text: string, tables: Iterable<string>, functions: Map<string, string> = new Map()): string[] {
  const all = [...tables];
  const found = new Set(all.filter((t) => TABLE_POSITION(t).test(text)));
  for (const [fn, body] of functions) if (CALLS(fn).test(text)) for (const t of all) if (TABLE_POSITION(t).test(body)) found.add(t);
  return [...found].sort();
}

/** `patient_id = <a value>` (a parameter, a bound hole, a literal, a function's argument), not `= other.patient_id`. */
const PATIENT_VALUE =
  /\bpatient_id\s*(=\s*(\$\d+|any\s*\(\s*(\$\d+|\$\{[^}]*\})|'[^']*'|p_patient\b|\$\{[^}]*\}(?!\s*\.))|in\s*\(\s*(\$\d+|\$\{[^}]*\}(?!\s*\.)|'))/i;
const PATIENT_VALUE_REVERSED = /(\$\d+|\$\{[^}]*\})(::text)?\s*=\s*(\w+\.)?patient_id\b/i;
/** A Patient row by its id: a patient is its own compartment. */
const PATIENT_BY_ID = /resource_type\s*=\s*'Patient'\s+and\s+(\w+\.)?id\s*=\s*(\$\d+|\$\{[^}]*\})/i;
/** Joined to another row on the distribution column (`g.patient_id = x.patient_id`, `x.patient_id in (select g.patient_id ...)`). */
const PATIENT_JOIN =
  /\b\w+\.patient_id\s*=\s*(\w+|\$\{[^}]*\})\.patient_id\b|(\w+|\$\{[^}]*\})\.patient_id\s+in\s*\(\s*select\s+(distinct\s+)?\w+\.patient_id\b/i;
/** The patient of a row of the enclosing statement, its alias given at run time. */
const OUTER_PATIENT = /\$\{[^}]*\}\.patient_id\b/;
/** Joined to an outer row by its resource key only (`t.id = ${a}.id`, `x.target_id = r.id`). */
const RESOURCE_JOIN = /\b\w+\.(id|target_id)\s*=\s*(\$\{[^}]*\}|\w+)\.id\b/i;
/** A row looked up by a key that is not the patient. */
const KEY_LOOKUP =
  /\b(\w+\.)?(id|grant_id|source_id|consent_id)\s*=\s*(\$\d+|\$\{[^}]*\}(?!\s*\.)|k\.id)|\(\s*(\w+\.)?resource_type\s*,\s*(\w+\.)?id\s*\)\s*in\b/i;
const MANY_ROWS = /\bunnest\s*\(|\bjsonb_array_elements|\bjsonb_to_recordset/i;
const WRITE = /^\s*(insert|update|delete)\b/i;

/**
 * The part of a statement that decides which rows it touches: an update without its SET list, an
 * insert without its column list and values (a SET patient_id = ... is no filter).
 */
function filterPart(text: string): string {
  if (/^\s*update\b/i.test(text)) return text.replace(/\bset\b[\s\S]*?(?=\bwhere\b|$)/i, ' ');
  return text;
}

/** Where one statement would run once the distributed tables are sharded by patient. */
export function analyse(lit: SqlLiteral, classes: Map<string, TableInfo>, functions: Map<string, string> = new Map()): Statement {
  const tables = tablesOf(lit.text, classes.keys(), functions);
  const distributed = tables.filter((t) => classes.get(t)?.class === 'distributed');
  const shardLogs = tables.filter((t) => classes.get(t)?.class === 'audit-log');
  const text = lit.text.replace(/--[^\n]*/g, ' ');
  const writes = WRITE.test(text);
  const base = { ...lit, tables, distributed };
  const fanOut = (kind: FanOutKind, why: string): Statement => ({ ...base, placement: 'multi-shard', kind, why });

  if (TABLE_HOLE.test(text))
    return fanOut(
      'every table, named at run time',
      'a table named at run time (backups copy every table, a restore writes them back): over a distributed table, every shard',
    );
  if (distributed.length === 0 && shardLogs.length > 0) {
    return writes
      ? fanOut(
          'audit log append',
          "one global sequence today (the sequencer lock): under sharding, the log of the shard whose patient the record is about, or the coordinator's",
        )
      : fanOut('audit log read', 'reads the one log across all patients: under sharding, every shard log, through the log of logs');
  }
  if (distributed.length === 0) return { ...base, placement: 'not-distributed', why: 'touches no distributed table' };

  const filter = filterPart(text);
  const needsColumn = distributed.filter((t) => classes.get(t)!.needsColumn);
  const called = [...functions.keys()].filter((fn) => CALLS(fn).test(text));
  const functionPinned = called.length > 0 && called.every((fn) => PATIENT_VALUE.test(functions.get(fn)!));
  const valuePin = PATIENT_VALUE.test(filter) || PATIENT_VALUE_REVERSED.test(filter) || PATIENT_BY_ID.test(filter);
  const insertsPatient = /^\s*insert\s+into\s+\w+\s*\([^)]*\bpatient_id\b/i.test(text);
  const fragment = !SQL_START.test(text);

  if (/^\s*update\b/i.test(text) && /\bset\b[\s\S]*\bpatient_id\s*=/i.test(text.split(/\bwhere\b/i)[0]))
    return fanOut(
      'moves a row to another patient',
      'sets patient_id, the distribution column: Citus refuses that; a resource filed under another patient is a delete on one shard and an insert on another',
    );
  if (insertsPatient && MANY_ROWS.test(text))
    return fanOut(
      'rows of several patients',
      'one statement writes rows of many patients (an import batch, a projection): routed row by row, one distributed transaction',
    );
  if (insertsPatient) return { ...base, placement: 'single-patient', why: 'inserts a row naming its patient_id: routed to that shard' };
  if (writes && needsColumn.length > 0 && !/\bpatient_id\b/i.test(text))
    return fanOut('index row without its patient', `${needsColumn.join(', ')} has no patient_id: the write cannot be routed until the column is added`);
  if (valuePin && !/\bpatient_id\s*=\s*any\s*\(/i.test(filter))
    return { ...base, placement: 'single-patient', why: 'filtered by one patient_id (or a Patient by its own id): one shard' };
  if (functionPinned && fragment)
    return { ...base, placement: 'co-located', why: `${called.join(', ')}() reads each distributed table by its patient argument: one shard per row` };
  // A join to `${alias}.patient_id` names a row of the enclosing statement: a fragment, whatever it starts with.
  if ((fragment || OUTER_PATIENT.test(text)) && PATIENT_JOIN.test(text))
    return { ...base, placement: 'co-located', why: 'a fragment joined to the outer row on patient_id: runs on whichever shard the outer row is on' };
  if (fragment && needsColumn.length > 0 && RESOURCE_JOIN.test(text))
    return fanOut(
      'index row without its patient',
      `joined to the outer row by resource id only; co-located once ${needsColumn.join(', ')} carries patient_id and the join names it`,
    );
  if (/\bpatient_id\s*=\s*any\s*\(/i.test(filter) || MANY_ROWS.test(text))
    return fanOut('rows of several patients', 'a set of rows or patients at once: each shard holding one of them');
  if (KEY_LOOKUP.test(filter)) return fanOut('by id, patient not named', 'a row addressed by its own id: the id does not say which shard holds it');
  if (tables.some((t) => t === 'access_grant' || t === 'access_use'))
    return fanOut('review queues across patients', 'grants and uses listed for review across patients');
  return fanOut(
    'search across patients',
    /\$\{[^}]*where[^}]*\}/i.test(text)
      ? 'no patient filter in the text: every shard is asked (its conditions come from a hole, built at run time: when they name one patient, as a search with patient= does, one shard)'
      : 'no patient filter: every shard is asked',
  );
}

// ---------------------------------------------------------------------------------------------
// The whole check

export interface ShardReport {
  heuristic: string;
  tables: TableInfo[];
  /**
   * Resource types that belong to no patient (src/shared): their records_* rows have patient_id
   * null today, which Citus refuses in a distribution column. They become reference tables.
   */
  sharedResourceTypes: string[];
  /** Migrations' SQL found in the code and not analysed as statements. */
  migrationLiterals: number;
  statements: Statement[];
  summary: {
    tables: Record<TableClass, number>;
    statements: Record<Placement, number>;
    multiShardByKind: Record<string, number>;
    builtAtRunTime: number;
  };
}

export const HEURISTIC =
  'Static text analysis of the string and template literals under src/ that read like SQL over a table of the migrated schema; not a SQL parser. ' +
  'A template with ${...} holes or a fragment of a statement is "built at run time": judged on the text the literal shows, at its file:line.';

export function check(catalog: Catalog, files: Array<{ file: string; source: string }>, sharedResourceTypes: string[] = []): ShardReport {
  const literals = files.flatMap((f) => extractSql(f.file, f.source, catalog.tables.keys(), catalog.functions.keys()));
  // First pass: which tables without a patient are joined with patient data (reference tables).
  const first = classifyTables(catalog);
  const joined = new Map<string, string>();
  for (const lit of literals) {
    const tables = tablesOf(lit.text, first.keys(), catalog.functions);
    if (!tables.some((t) => first.get(t)!.class === 'distributed')) continue;
    for (const t of tables) if (first.get(t)!.class === 'local' && !joined.has(t)) joined.set(t, `${lit.file}:${lit.line}`);
  }
  const classes = classifyTables(catalog, joined);
  const statements = literals.filter((l) => !l.migration).map((l) => analyse(l, classes, catalog.functions));
  const tables = [...classes.values()].sort((a, b) => a.class.localeCompare(b.class) || a.name.localeCompare(b.name));
  const count = <K extends string>(keys: readonly K[], of: (k: K) => number) => Object.fromEntries(keys.map((k) => [k, of(k)])) as Record<K, number>;
  const multi = statements.filter((s) => s.placement === 'multi-shard');
  const kinds = [...new Set(multi.map((s) => s.kind!))].sort();
  return {
    heuristic: HEURISTIC,
    tables,
    sharedResourceTypes,
    migrationLiterals: literals.filter((l) => l.migration).length,
    statements,
    summary: {
      tables: count(['distributed', 'reference', 'local', 'audit-log'] as const, (k) => tables.filter((t) => t.class === k).length),
      statements: count(['single-patient', 'co-located', 'multi-shard', 'not-distributed'] as const, (k) => statements.filter((s) => s.placement === k).length),
      multiShardByKind: count(kinds, (k) => multi.filter((s) => s.kind === k).length),
      builtAtRunTime: statements.filter((s) => s.dynamic && s.placement !== 'not-distributed').length,
    },
  };
}

export async function runShardCheck(srcDir = path.join(ROOT, 'src')): Promise<ShardReport> {
  const catalog = await readCatalog();
  const files = sourceFiles(srcDir).map((p) => ({ file: path.relative(ROOT, p), source: fs.readFileSync(p, 'utf8') }));
  const { SUPPORTED_TYPES, isPatientData } = await import('../src/shared/index.js');
  return check(
    catalog,
    files,
    SUPPORTED_TYPES.filter((t) => !isPatientData(t)),
  );
}

function oneLine(text: string, max = 140): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

export function formatReport(r: ShardReport): string {
  const lines: string[] = [];
  lines.push('Carewall sharded by patient compartment (Citus): a check against the current schema');
  lines.push(`Heuristic: ${r.heuristic}`);
  lines.push('');
  lines.push(
    `Tables (${r.tables.length}): ${Object.entries(r.summary.tables)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}`,
  );
  for (const cls of ['distributed', 'reference', 'audit-log', 'local'] as const) {
    lines.push(`  ${cls}:`);
    for (const t of r.tables.filter((x) => x.class === cls)) {
      const col = t.distributionColumn ? ` by ${t.distributionColumn}${t.needsColumn ? ' (to add)' : ''}` : '';
      lines.push(`    ${t.name}${col}: ${t.why}`);
    }
  }
  lines.push(
    `  resource types of no patient (patient_id null in records_*; Citus refuses a NULL distribution value): ${r.sharedResourceTypes.join(', ')}: reference tables`,
  );
  lines.push('');
  const s = r.summary.statements;
  lines.push(
    `Statements (${r.statements.length}): ${s['single-patient']} single-patient, ${s['co-located']} co-located fragments, ${s['multi-shard']} multi-shard, ${s['not-distributed']} touching no distributed table; ${r.summary.builtAtRunTime} of those touching patient data built at run time`,
  );
  lines.push(`(besides, ${r.migrationLiterals} migrations' SQL: run once by the migration runner on the coordinator; Citus propagates DDL; not analysed)`);
  lines.push(
    `Multi-shard by kind: ${Object.entries(r.summary.multiShardByKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  for (const kind of Object.keys(r.summary.multiShardByKind)) {
    lines.push('');
    lines.push(`  ${kind}:`);
    for (const st of r.statements.filter((x) => x.placement === 'multi-shard' && x.kind === kind)) {
      lines.push(`    ${st.file}:${st.line}${st.dynamic ? ' (built at run time)' : ''} [${st.tables.join(', ')}] ${st.why}`);
      lines.push(`      ${oneLine(st.text)}`);
    }
  }
  for (const placement of ['single-patient', 'co-located'] as const) {
    lines.push('');
    lines.push(`${placement}:`);
    for (const st of r.statements.filter((x) => x.placement === placement)) {
      lines.push(`    ${st.file}:${st.line}${st.dynamic ? ' (built at run time)' : ''} [${st.tables.join(', ')}] ${st.why}`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await runShardCheck();
  process.stdout.write((process.argv.includes('--json') ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n');
}
