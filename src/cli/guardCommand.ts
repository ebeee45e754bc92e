/**
 * `carewall guard watch|simulate|make-share`: thin shells over src/guard. None needs an
 * installation. Nothing printed here names a file (paths can carry patients' names): the alerts
 * file (0600) is where paths go.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { wholeNumber } from './argParsers.js';
import { DEFAULT_DATA_DIR } from '../config.js';
import { BEHAVIOURS, BENIGN, assertTestShare, copySnapshot, Guard, makeShare, releaseShares, Rng, runBehaviour } from '../guard/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';
import { exitOnSignal } from '../util/index.js';

const pace = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('not a number of files per second (0 is flat out)');
  return n;
};
const isInside = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);

function listing(): string {
  const rows = [
    'Ransomware behaviours:',
    ...Object.entries(BEHAVIOURS).map(([k, b]) => `  ${k.padEnd(18)} ${b.description}`),
    'Benign workloads:',
    ...Object.entries(BENIGN).map(([k, b]) => `  ${k.padEnd(18)} ${b.description}${b.available && !b.available() ? ' (not available here)' : ''}`),
  ];
  return rows.join('\n');
}

export function registerGuardCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const guard = program.command('guard').description('ransomware guard on file shares: watch folders, raise alarms on encryption activity');
  guard
    .command('watch')
    .description('watch folders and append one NDJSON alarm line per alarm to the alerts file')
    .argument('<dir...>', 'folders to watch (recursively)')
    .requiredOption('--alerts <file>', 'alerts NDJSON file (created 0600); <file>.affected.json keeps the affected list')
    .option('--decoys', 'plant two decoy files in every folder; any change to one is an alarm')
    .option('--read-only-on-alarm', "take the write bits off the watched folders at the first alarm ('guard release --alerts FILE' gives them back)")
    .option('--snapshot-dir <dir>', 'at the first alarm, copy the untouched files into a new read-only folder here (outside the watched folders)')
    .option('--exclude <dir...>', 'folders inside the watched ones to leave alone (a backup repository)')
    .option('--scan-interval <seconds>', 'periodic rescan, the fallback for missed events', wholeNumber, 30)
    .action(
      async (
        dirs: string[],
        opts: { alerts: string; decoys?: boolean; readOnlyOnAlarm?: boolean; snapshotDir?: string; exclude?: string[]; scanInterval: number },
      ) => {
        dirs = dirs.map((d) => resolvePath(io, d));
        const roots = dirs.map((d) => {
          if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new Error(`${d} is not a folder`);
          return fs.realpathSync(d);
        });
        const alertsFile = resolvePath(io, opts.alerts);
        const alertsDir = path.dirname(alertsFile);
        if (!fs.existsSync(alertsDir)) throw new Error(`the folder of the alerts file (${alertsDir}) does not exist`);
        if (opts.snapshotDir) {
          const snap = resolvePath(io, opts.snapshotDir);
          fs.mkdirSync(snap, { recursive: true, mode: 0o700 });
          const real = fs.realpathSync(snap);
          if (roots.some((r) => isInside(real, r)))
            throw new Error('--snapshot-dir must be outside the watched folders (an attacker on the share could reach it)');
        }
        const g = new Guard({
          dirs: roots,
          alertsFile,
          decoys: opts.decoys,
          readOnlyOnAlarm: opts.readOnlyOnAlarm,
          snapshot: opts.snapshotDir ? copySnapshot(resolvePath(io, opts.snapshotDir)) : undefined,
          exclude: opts.exclude?.map((e) => resolvePath(io, e)),
          scanIntervalMs: Math.max(1, opts.scanInterval) * 1000,
          onAlarm: (a) =>
            io.err(`ALARM ${a.time} ${a.severity}: ${a.paths.length} file(s) in this alarm, ${a.affected.length} affected so far; see ${opts.alerts}`),
        });
        const s = await g.start();
        io.err(`guard: watching ${s.files} files in ${s.folders} folders${opts.decoys ? `, ${s.decoys} decoys planted` : ''}; alarms to ${alertsFile}`);
        // Runs until stopped: the watchers keep the process alive.
        exitOnSignal(() => g.stop());
      },
    );
  guard
    .command('release')
    .description("after an alarm's clean-up: give the shares back the write bits the read-only response took (the server's guard then watches afresh)")
    .option('--alerts <file>', "the alerts file of a 'guard watch' (default: the server's guard, in --data-dir)")
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { alerts?: string; dataDir: string }) => {
        if (opts.alerts) {
          io.out(
            `${await releaseShares(resolvePath(io, opts.alerts))} folder(s) and file(s) writable again. Restart 'guard watch' to watch the shares as they now are.`,
          );
          return;
        }
        if (ctx.insideServer) {
          // The running server holds the incident: it releases and starts watching afresh.
          const released = await ctx.withCarewall(opts.dataDir, (cw) => cw.guard.release());
          io.out(
            `${released.writable} folder(s) and file(s) writable again; the guard watches afresh.${released.incidentFile ? ` The incident's affected list is kept in ${released.incidentFile}.` : ''}`,
          );
          return;
        }
        const alerts = path.join(resolvePath(io, opts.dataDir), 'guard', 'alerts.ndjson');
        io.out(`${await releaseShares(alerts)} folder(s) and file(s) writable again (no server running; it watches afresh when started).`);
      }),
    );
  guard
    .command('simulate')
    .description('reproduce a ransomware behaviour or a benign workload on a test share (made by make-share; it destroys files)')
    .option('--dir <dir>', 'test share to attack')
    .option('--behaviour <name>', 'behaviour or benign workload (see --list)')
    .option('--pace <files-per-second>', 'files per second; 0 is flat out (default 40, slow: one a minute)', pace)
    .option('--seed <n>', 'random seed (traversal order, contents)', wholeNumber, 1)
    .option('--limit <n>', 'stop after this many files', wholeNumber)
    .option('--log <file>', 'append one NDJSON line {"path","t"} per destroyed file')
    .option('--list', 'list the behaviours and benign workloads')
    .action(async (opts: { dir?: string; behaviour?: string; pace?: number; seed: number; limit?: number; log?: string; list?: boolean }) => {
      if (opts.list) {
        io.out(listing());
        return;
      }
      if (!opts.dir || !opts.behaviour) throw new Error("give --dir DIR and --behaviour NAME ('--list' lists the behaviours)");
      const given = resolvePath(io, opts.dir);
      if (!fs.existsSync(given)) throw new Error(`${opts.dir} does not exist`);
      assertTestShare(given);
      const dir = fs.realpathSync(given);
      const benign = BENIGN[opts.behaviour];
      if (benign) {
        if (benign.available && !benign.available()) throw new Error(`${opts.behaviour} needs a tool that is not installed here`);
        const rng = new Rng(opts.seed);
        await benign.prepare?.(dir, rng);
        const n = await benign.run(dir, rng);
        io.out(JSON.stringify({ workload: opts.behaviour, operations: n }));
        return;
      }
      if (!BEHAVIOURS[opts.behaviour]) throw new Error(`unknown behaviour '${opts.behaviour}'; '--list' lists them`);
      const r = await runBehaviour(opts.behaviour, { dir, pace: opts.pace, seed: opts.seed, limit: opts.limit, log: opts.log && resolvePath(io, opts.log) });
      io.out(JSON.stringify(r));
    });
  guard
    .command('make-share')
    .description('make a synthetic test share (nested DOCX, PDF, JPEG, DICOM, TXT, CSV) for simulate')
    .requiredOption('--dir <dir>', 'new or empty folder')
    .option('--files <n>', 'number of files', wholeNumber, 300)
    .option('--seed <n>', 'random seed', wholeNumber, 1)
    .action(async (opts: { dir: string; files: number; seed: number }) => {
      const s = await makeShare(resolvePath(io, opts.dir), { files: opts.files, seed: opts.seed });
      io.out(JSON.stringify(s));
    });
}
