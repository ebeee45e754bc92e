/**
 * `carewall audit verify|checkpoint`: for whoever holds the data folder. `verify` recomputes the
 * audit log's Merkle tree from its records and checks every signed checkpoint (and any exported
 * one) against it; its exit code is 0 only when everything holds. `checkpoint --out FILE` keeps an
 * offline copy of the latest signed checkpoint, which later proves a rolled-back database.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { verifyLog } from '../audit/verify.js';
import type { Carewall } from '../runtime.js';

export function registerAuditCommand(program: Command, open: (dataDir: string) => Promise<Carewall>, out: (text: string) => void = (t) => process.stdout.write(t + '\n')): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('recompute the audit log from its records and check every signed checkpoint; exit code 0 only if all holds')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--checkpoint <file...>', 'also check these exported checkpoints (files written by `audit checkpoint --out`)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { dataDir: string; checkpoint?: string[]; json?: boolean }) => {
      const files = (opts.checkpoint ?? []).map((f) => ({ source: f, note: fs.readFileSync(f, 'utf8') }));
      const cw = await open(opts.dataDir);
      let ok = false;
      try {
        const vkey = await cw.audit.pinnedVerifierKey();
        const report = await verifyLog(cw.db, vkey, files);
        ok = report.ok;
        if (opts.json) out(JSON.stringify(report, null, 2));
        else if (report.ok) out(`audit log verified: ${report.size} records, ${report.checkpointsChecked} signed checkpoints hold`);
        else {
          out(`audit log verification FAILED${report.firstBadIndex !== undefined ? `: first bad index ${report.firstBadIndex}` : ''}`);
          for (const p of report.problems.slice(0, 20)) out(`  ${p.message}`);
          if (report.problems.length > 20) out(`  ... and ${report.problems.length - 20} more`);
        }
      } finally {
        await cw.close();
      }
      if (!ok) process.exitCode = 1;
    });
  audit
    .command('checkpoint')
    .description('write the latest signed checkpoint (signing one of the current log first) to a file')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--out <file>', 'where to write it')
    .action(async (opts: { dataDir: string; out: string }) => {
      const cw = await open(opts.dataDir);
      try {
        const note = await cw.audit.checkpoints.checkpoint();
        fs.writeFileSync(opts.out, note);
        out(`checkpoint written to ${opts.out}: ${note.split('\n')[1]} records`);
      } finally {
        await cw.close();
      }
    });
}
