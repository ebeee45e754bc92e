/**
 * `carewall backup init|run|list|verify|restore|test` and `carewall vault serve|add-credential`.
 * Whatever reads backups takes the recovery key from a file or standard input, never the command
 * line; a vault token comes from CAREWALL_VAULT_TOKEN or standard input.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { port, when } from './argParsers.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath, type CommandIo } from './io.js';
import {
  openBackend,
  parseRecoveryKey,
  planUndo,
  RepositoryReader,
  restoreCarewall,
  restoreFiles,
  runRestoreTest,
  snapshotAsOf,
  verifyRepository,
} from '../backup/index.js';
import { addCredential, buildVault } from '../vault/index.js';
import { exitOnSignal } from '../util/index.js';
import { ALL_MIGRATIONS } from '../runtime.js';

interface ReadOpts {
  repository: string;
  recoveryKeyFile?: string;
  recoveryKeyStdin?: boolean;
}

/** A repository address as given: a folder is relative to where the command was typed. */
const repositoryAt = (io: CommandIo, address: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : resolvePath(io, address));

async function openReader(opts: ReadOpts, io: CommandIo): Promise<RepositoryReader> {
  let text: string;
  if (opts.recoveryKeyFile) text = fs.readFileSync(resolvePath(io, opts.recoveryKeyFile), 'utf8');
  else if (opts.recoveryKeyStdin) text = (await io.readStdin()).trim();
  else throw new Error('give the recovery key with --recovery-key-file FILE or --recovery-key-stdin (never on the command line)');
  const secret = parseRecoveryKey(text);
  const backend = await openBackend(repositoryAt(io, opts.repository), { token: io.env.CAREWALL_VAULT_TOKEN });
  return RepositoryReader.open(backend, secret);
}

const withReader = (c: Command) =>
  c
    .requiredOption('--repository <address>', 'the repository: a folder, http(s)://vault (token in CAREWALL_VAULT_TOKEN) or s3://bucket/prefix')
    .option('--recovery-key-file <file>', 'a file holding the recovery key')
    .option('--recovery-key-stdin', 'read the recovery key from standard input');

export function registerBackupCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const out = io.out;
  const backup = program.command('backup').description('encrypted, deduplicated, append-only backups of Carewall and its file shares');

  backup
    .command('init')
    .description('create the backup repository; shows the recovery key ONCE (keep it offline: it is the only key that reads backups)')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--repository <address>', 'an empty folder, http(s)://vault-host:port, or s3://bucket/prefix?endpoint=...')
    .option('--token-stdin', "read the vault's writer credential from standard input")
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; repository: string; tokenStdin?: boolean; json?: boolean }) => {
        const token = opts.tokenStdin ? (await io.readStdin()).trim() : io.env.CAREWALL_VAULT_TOKEN;
        await ctx.withCarewall(opts.dataDir, async (cw) => {
          const r = await cw.backups.init(repositoryAt(io, opts.repository), { token });
          if (opts.json) out(JSON.stringify({ repositoryId: r.repositoryId, recoveryKey: r.recoveryKey }));
          else {
            out(`Backup repository ${r.repositoryId} created at ${opts.repository}.`);
            out('');
            out(`  Recovery key: ${r.recoveryKey}`);
            out('');
            out('This is shown once and stored nowhere. Write it down or print it and keep it offline, apart from');
            out('this server: without it no backup can be restored; the server itself can only add backups.');
          }
        });
      }),
    );

  backup
    .command('run')
    .description('take a snapshot now: the database, configuration and keys, and the file shares of carewall.json')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--share <name...>', 'only these shares (no database)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; share?: string[]; json?: boolean }) => {
        await ctx.withCarewall(opts.dataDir, async (cw) => {
          const r = await cw.backups.run('manual', { onlyShares: opts.share });
          const s = r.manifest.stats!;
          if (opts.json) out(JSON.stringify({ snapshot: r.snapshot, seconds: r.seconds, stats: s }));
          else
            out(
              `snapshot ${r.snapshot}: ${(s.bytesRead / 1e6).toFixed(1)} MB read, ${(s.bytesNew / 1e6).toFixed(1)} MB new, ${(s.bytesStored / 1e6).toFixed(1)} MB stored, ${r.seconds.toFixed(1)} s`,
            );
        });
      }),
    );

  withReader(backup.command('list').description('the snapshots (needs the recovery key: manifests are encrypted)'))
    .option('--json', 'print as JSON')
    .action(async (opts: ReadOpts & { json?: boolean }) => {
      const reader = await openReader(opts, io);
      const { snapshots, problems } = await reader.snapshots();
      const rows = snapshots.map((s) => ({
        snapshot: s.name,
        time: s.manifest.time,
        reason: s.manifest.reason,
        database: Boolean(s.manifest.database),
        shares: Object.fromEntries(Object.entries(s.manifest.shares).map(([n, v]) => [n, { files: v.files, bytes: v.bytes }])),
      }));
      if (opts.json) out(JSON.stringify({ snapshots: rows, problems }));
      else {
        for (const r of rows)
          out(
            `${r.snapshot}  ${r.time}  ${r.reason}${r.database ? '  database' : ''}  ${Object.entries(r.shares)
              .map(([n, v]) => `${n}: ${v.files} files`)
              .join(', ')}`,
          );
        for (const p of problems) out(`BAD ${p.name}: ${p.problem}`);
      }
      if (problems.length > 0) ctx.fail();
    });

  withReader(backup.command('verify').description('check every manifest signature and every chunk (opened and hashed); exit code 0 only if all holds'))
    .option('--json', 'print the report as JSON')
    .action(async (opts: ReadOpts & { json?: boolean }) => {
      const report = await verifyRepository(await openReader(opts, io));
      if (opts.json) out(JSON.stringify(report));
      else if (report.ok) out(`repository verified: ${report.snapshots} snapshots, ${report.chunks} chunks hold`);
      else {
        out(`repository verification FAILED: ${report.problems.length} problem(s)`);
        for (const p of report.problems.slice(0, 20)) out(`  ${p.object}: ${p.problem}`);
      }
      if (!report.ok) ctx.fail();
    });

  withReader(
    backup.command('restore').description('restore a whole Carewall into an empty data folder (--data-dir), or files of a share (--share ... --to DIR)'),
  )
    .option('--data-dir <dir>', 'whole restore: the new, empty data folder (DATABASE_URL: an empty database to restore into)')
    .option('--snapshot <name>', 'this snapshot (default: the newest, or the newest at --as-of)')
    .option('--as-of <time>', 'the newest snapshot taken at or before this time', when)
    .option('--share <name>', 'restore files of this share')
    .option('--path <path...>', 'only these files or folders of the share')
    .option('--changed-since <time>', '"undo the attack": the files changed or deleted since this time, from the last snapshot before it', when)
    .option('--current <dir>', 'with --changed-since: the share as it is now (default: --to)')
    .option('--to <dir>', 'where restored files go')
    .option('--aside', 'rename files in the way to <name>.carewall-aside-<time> instead of stopping')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        opts: ReadOpts & {
          dataDir?: string;
          snapshot?: string;
          asOf?: Date;
          share?: string;
          path?: string[];
          changedSince?: Date;
          current?: string;
          to?: string;
          aside?: boolean;
          json?: boolean;
        },
      ) => {
        const reader = await openReader(opts, io);
        const { snapshots } = await reader.snapshots();
        const pick = (share?: string) =>
          opts.snapshot ? snapshots.find((s) => s.name === opts.snapshot) : snapshotAsOf(snapshots, opts.asOf ?? new Date(), { share, withDatabase: !share });
        if (opts.share) {
          if (!opts.to) throw new Error('give --to DIR: where the restored files go');
          let only: Set<string> | undefined;
          let snap = pick(opts.share);
          let added: string[] = [];
          if (opts.changedSince) {
            const plan = await planUndo(reader, snapshots, opts.share, resolvePath(io, opts.current ?? opts.to), opts.changedSince);
            snap = plan.snapshot;
            only = new Set(plan.changed);
            added = plan.added;
            if (plan.changed.length === 0) {
              out(`nothing in share ${opts.share} changed since ${opts.changedSince.toISOString()} (compared with ${plan.snapshot.name})`);
              return;
            }
          }
          if (!snap) throw new Error(`no snapshot ${opts.snapshot}`);
          const r = await restoreFiles(reader, snap, opts.share, { to: resolvePath(io, opts.to), paths: opts.path, only, aside: opts.aside });
          if (opts.json) out(JSON.stringify({ ...r, added }));
          else {
            out(`restored ${r.restored.length} file(s), ${(r.bytes / 1e6).toFixed(1)} MB, from ${r.snapshot} (${r.time}) into ${opts.to}`);
            if (r.movedAside.length) out(`moved aside: ${r.movedAside.length} file(s) (renamed, not deleted)`);
            if (added.length) out(`${added.length} file(s) appeared since then and were left alone (first: ${added[0]})`);
          }
          return;
        }
        if (!opts.dataDir) throw new Error('give --data-dir NEWDIR (a whole restore) or --share NAME --to DIR (files)');
        const snap = pick();
        if (!snap) throw new Error(`no snapshot ${opts.snapshot}`);
        const r = await restoreCarewall(
          reader,
          snap.name,
          { dataDir: resolvePath(io, opts.dataDir), databaseUrl: io.env.DATABASE_URL || undefined },
          ALL_MIGRATIONS,
        );
        if (opts.json) out(JSON.stringify(r));
        else
          out(
            `restored ${r.snapshot}: ${r.tables} tables, ${r.rows} rows in ${r.seconds.toFixed(1)} s into ${opts.dataDir}; run 'carewall audit verify --data-dir ${opts.dataDir}', then start it`,
          );
      },
    );

  withReader(
    backup
      .command('test')
      .description('a restore test: restore into a scratch database and folder, check everything, record signed evidence in the repository'),
  )
    .option('--snapshot <name>', 'this snapshot (default: the newest with a database)')
    .option('--postgres-url <url>', 'restore into a scratch database on this PostgreSQL server (default: DATABASE_URL, else the embedded database)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: ReadOpts & { snapshot?: string; postgresUrl?: string; json?: boolean }) => {
      const report = await runRestoreTest(await openReader(opts, io), ALL_MIGRATIONS, {
        snapshot: opts.snapshot,
        postgresUrl: opts.postgresUrl ?? (io.env.DATABASE_URL || undefined),
      });
      if (opts.json) out(JSON.stringify(report));
      else {
        out(
          `restore test of ${report.snapshot}: ${report.ok ? 'PASSED' : 'FAILED'} in ${report.seconds.toFixed(1)} s (${report.chunks} chunks, ${report.tables} tables, ${report.rows} rows, ${report.auditRecords} audit records ${report.auditVerified ? 'verified' : 'NOT verified'}, ${report.files} files)`,
        );
        for (const p of report.problems) out(`  ${p}`);
      }
      if (!report.ok) ctx.fail();
    });

  const vault = program.command('vault').description('an append-only backup repository server, for a second machine');
  vault
    .command('serve')
    .description('serve DIR as an append-only repository: new objects only, no overwrite, no delete; put TLS in front beyond loopback')
    .requiredOption('--dir <dir>', "the vault's folder (objects, credentials, prune requests)")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port', port, 8090)
    .action(async (opts: { dir: string; host: string; port: number }) => {
      const app = await buildVault({ dir: resolvePath(io, opts.dir), logger: true });
      const url = await app.listen({ host: opts.host, port: opts.port });
      out(`Carewall vault (append-only) serving ${resolvePath(io, opts.dir)} on ${url}`);
      exitOnSignal(() => app.close());
    });
  vault
    .command('add-credential')
    .description("add a writer (Carewall's server) or admin (prunes, with a second admin's approval) credential; its token is shown once")
    .requiredOption('--dir <dir>', "the vault's folder")
    .requiredOption('--role <role>', 'writer or admin')
    .requiredOption('--name <name>', 'who holds it')
    .action((opts: { dir: string; role: 'writer' | 'admin'; name: string }) => {
      const token = addCredential(resolvePath(io, opts.dir), opts.role, opts.name);
      out(`${opts.role} credential ${opts.name}: ${token}`);
      out('Shown once; the vault keeps only its hash.');
    });
}
