/**
 * `carewall audit verify|checkpoint`: for whoever holds the data folder. `verify` recomputes the
 * audit log's Merkle tree from its records and checks every signed checkpoint (and any exported
 * one) against it; its exit code is 0 only when everything holds. `checkpoint --out FILE` keeps an
 * offline copy of the latest signed checkpoint, which later proves a rolled-back database.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerAuditCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('recompute the audit log from its records and check every signed checkpoint; exit code 0 only if all holds')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--checkpoint <file...>', 'also check these exported checkpoints (files written by `audit checkpoint --out`)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; checkpoint?: string[]; json?: boolean }) => {
        const files = (opts.checkpoint ?? []).map((f) => ({ source: f, note: fs.readFileSync(resolvePath(io, f), 'utf8') }));
        const report = await ctx.withCarewall(opts.dataDir, (cw) =>
          cw.audit.verifyAndRecord({ account: 'system', username: 'system', roles: ['admin'] }, files),
        );
        if (opts.json) io.out(JSON.stringify(report, null, 2));
        else if (report.ok) io.out(`audit log verified: ${report.size} records, ${report.checkpointsChecked} signed checkpoints hold`);
        else {
          io.out(`audit log verification FAILED${report.firstBadIndex !== undefined ? `: first bad index ${report.firstBadIndex}` : ''}`);
          for (const p of report.problems.slice(0, 20)) io.out(`  ${p.message}`);
          if (report.problems.length > 20) io.out(`  ... and ${report.problems.length - 20} more`);
        }
        if (!report.ok) ctx.fail();
      }),
    );
  audit
    .command('checkpoint')
    .description('write the latest signed checkpoint (signing one of the current log first) to a file')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--out <file>', 'where to write it')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; out: string }) => {
        const note = await ctx.withCarewall(opts.dataDir, (cw) => cw.audit.checkpoints.checkpoint());
        fs.writeFileSync(resolvePath(io, opts.out), note);
        io.out(`checkpoint written to ${opts.out}: ${note.split('\n')[1]} records`);
      }),
    );
}
