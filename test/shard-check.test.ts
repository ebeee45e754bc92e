/**
 * scripts/shard-check.ts on the current schema (every migration applied to a scratch database) and
 * the current code: what docs/sharding.md relies on.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { analyse, extractSql, runShardCheck, type ShardReport, type Statement, type TableInfo } from '../scripts/shard-check.js';

let report: ShardReport;
let classes: Map<string, TableInfo>;

before(async () => {
  report = await runShardCheck();
  classes = new Map(report.tables.map((t) => [t.name, t]));
});

const inFile = (file: string, pattern: RegExp): Statement[] => report.statements.filter((s) => s.file === file && pattern.test(s.text));

describe('shard check: tables', () => {
  it('classifies every table of the migrated schema once', () => {
    const names = report.tables.map((t) => t.name);
    assert.equal(new Set(names).size, names.length);
    for (const t of ['records_resource', 'identity_account', 'audit_bundle', 'schema_migrations', 'updates_metadata']) assert.ok(names.includes(t), t);
    const total = Object.values(report.summary.tables).reduce((a, b) => a + b, 0);
    assert.equal(total, names.length);
  });

  it('distributes the tables holding resource bodies by patient_id, as they are', () => {
    for (const name of ['records_resource', 'records_version']) {
      const t = classes.get(name)!;
      assert.equal(t.class, 'distributed', name);
      assert.equal(t.distributionColumn, 'patient_id');
      assert.notEqual(t.needsColumn, true, `${name} already has patient_id`);
    }
  });

  it('co-locates the search index tables with their resource, once they carry patient_id', () => {
    for (const name of ['records_token', 'records_date', 'records_reference']) {
      const t = classes.get(name)!;
      assert.equal(t.class, 'distributed', name);
      assert.equal(t.needsColumn, true, name);
      assert.ok(!t.columns.includes('patient_id'), `${name} has no patient_id today`);
    }
  });

  it('makes memberships a reference table, keeps identity and keys on the coordinator, splits the audit log', () => {
    assert.equal(classes.get('access_membership')!.class, 'reference');
    assert.equal(classes.get('access_relationship')!.class, 'distributed');
    assert.equal(classes.get('identity_account')!.class, 'local');
    assert.equal(classes.get('keys_data_key')!.class, 'local');
    assert.equal(classes.get('audit_bundle')!.class, 'audit-log');
    assert.equal(classes.get('audit_checkpoint')!.class, 'local', 'checkpoints are signed on the coordinator (the log of logs)');
  });

  it('names the resource types that belong to no patient', () => {
    assert.ok(report.sharedResourceTypes.includes('Practitioner'));
    assert.ok(report.sharedResourceTypes.includes('Organization'));
    assert.ok(!report.sharedResourceTypes.includes('Observation'));
    assert.ok(!report.sharedResourceTypes.includes('Patient'));
  });
});

describe('shard check: statements in the code', () => {
  it('lists the emergency name look-up, and the naming of patients by their ids, as multi-shard', () => {
    const found = inFile('src/records/identify.ts', /records_resource/);
    assert.equal(found.length, 2, 'the look-up and the naming by ids are found');
    for (const s of found) {
      assert.equal(s.placement, 'multi-shard');
      assert.equal(s.kind, 'search across patients');
    }
    const lookup = found.find((s) => /limit/.test(s.text))!;
    assert.equal(lookup.dynamic, true, "the look-up's conditions are compiled at run time");
    const byIds = found.find((s) => /any\(\$1/.test(s.text))!;
    assert.equal(byIds.dynamic, false, 'the ids are a parameter of a fixed statement');
  });

  it('lists the audit log verification as multi-shard', () => {
    const found = report.statements.filter((s) => s.file === 'src/audit/verifyChunk.ts' && s.tables.includes('audit_bundle'));
    assert.ok(found.length > 0);
    for (const s of found) assert.equal(s.placement, 'multi-shard');
  });

  it("does not list statements pinned to one patient: a patient's live records, a Patient by its id", () => {
    const count = inFile('src/records/store.ts', /from records_resource where patient_id = \$1/);
    assert.equal(count.length, 1);
    assert.equal(count[0].placement, 'single-patient');
    const patient = inFile('src/records/store.ts', /resource_type = 'Patient' and id = \$1/);
    assert.ok(patient.length > 0);
    for (const s of patient) assert.equal(s.placement, 'single-patient');
  });

  it("finds the access predicate's per-row checks co-located with the row they judge", () => {
    const consent = inFile('src/access/predicateSql.ts', /from access_consent c where c\.patient_id = \$\{a\}\.patient_id/);
    assert.equal(consent.length, 1);
    assert.equal(consent[0].placement, 'co-located');
    const context = inFile('src/access/predicateSql.ts', /^access_context\(/);
    assert.equal(context.length, 1);
    assert.equal(context[0].placement, 'co-located', 'access_context() reads by its patient argument');
  });

  it('lists a read by type and id as multi-shard: the id does not name the shard', () => {
    const reads = inFile('src/records/store.ts', /^select \* from records_version where resource_type = \$1 and id = \$2 and version_id = \$3$/);
    assert.equal(reads.length, 1);
    assert.equal(reads[0].placement, 'multi-shard');
    assert.equal(reads[0].kind, 'by id, patient not named');
  });

  it('gives every multi-shard statement a place and a reason, and leaves migrations out', () => {
    const multi = report.statements.filter((s) => s.placement === 'multi-shard');
    assert.ok(multi.length > 0);
    for (const s of multi) {
      assert.match(s.file, /^src\/.+\.ts$/);
      assert.ok(s.line > 0 && s.kind && s.why, `${s.file}:${s.line}`);
    }
    assert.ok(report.statements.every((s) => !s.migration));
    assert.equal(report.summary.statements['multi-shard'], multi.length);
  });
});

describe('shard check: the analysis itself', () => {
  const lit = (text: string, dynamic = false) => ({ file: 'src/made/up.ts', line: 1, text, dynamic });

  it('flags a made-up statement with no patient filter over a distributed table', () => {
    const s = analyse(lit('select id, body from records_version where last_updated > $1 order by last_updated'), classes);
    assert.equal(s.placement, 'multi-shard');
    assert.deepEqual(s.distributed, ['records_version']);
  });

  it('pins the same statement once it names one patient, and not when it names a set of them', () => {
    assert.equal(analyse(lit('select id, body from records_version where patient_id = $2 and last_updated > $1'), classes).placement, 'single-patient');
    const several = analyse(lit('select id from records_version where patient_id = any($1::text[])'), classes);
    assert.equal(several.placement, 'multi-shard');
    assert.equal(several.kind, 'rows of several patients');
  });

  it('does not take SET patient_id for a filter: that update moves a row between shards', () => {
    const s = analyse(lit('update records_resource set patient_id = $3 where resource_type = $1 and id = $2'), classes);
    assert.equal(s.placement, 'multi-shard');
    assert.equal(s.kind, 'moves a row to another patient');
  });

  it('leaves tables of no patient alone', () => {
    assert.equal(analyse(lit('select * from identity_account where username = $1'), classes).placement, 'not-distributed');
  });

  it('extracts SQL literals, marks templates as built at run time, skips DDL and prose', () => {
    const source = [
      "const a = 'select * from records_resource where id = $1';",
      'const b = `select * from records_resource r where ${where}`;',
      "const c = 'create table records_resource (id text)';",
      "const d = 'the records_resource table holds current versions';",
      "const m = [{ module: 'x', version: 1, description: 'd', sql: 'delete from records_token' }];",
    ].join('\n');
    const found = extractSql('src/made/up.ts', source, classes.keys());
    assert.deepEqual(
      found.map((f) => [f.line, f.dynamic, f.migration ?? false]),
      [
        [1, false, false],
        [2, true, false],
        [5, false, true],
      ],
    );
  });
});
