/**
 * `carewall monitor scan|simulate`: thin shells over src/monitor. Neither needs an installation:
 * they read and write folders of FHIR NDJSON.
 */
import { Command } from 'commander';
import { wholeNumber } from './argParsers.js';
import { scanToFile, simulate } from '../monitor/index.js';
import type { CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerMonitorCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const monitor = program.command('monitor').description('insider-misuse monitoring over FHIR AuditEvent logs');
  monitor
    .command('scan')
    .description('read a folder of FHIR NDJSON (AuditEvent.ndjson and the reference resources) and write one alert per line')
    .requiredOption('--input <dir>', 'folder with AuditEvent.ndjson, Practitioner.ndjson, PractitionerRole.ndjson, Patient.ndjson, ...')
    .requiredOption('--out <file>', 'alerts NDJSON file to write')
    .option('--json', 'print the summary as JSON on standard output')
    .action(async (opts: { input: string; out: string; json?: boolean }) => {
      const s = await scanToFile(resolvePath(io, opts.input), resolvePath(io, opts.out));
      if (opts.json) io.out(JSON.stringify(s));
      const scenarios = Object.entries(s.byScenario)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      io.writeErr(
        `scanned ${s.events} events (${s.accesses} patient accesses) in ${s.seconds.toFixed(1)} s, ${s.eventsPerSecond} events/s\n` +
          `explained: ${(100 * s.explainedShare).toFixed(1)}% of accesses (${Object.entries(s.byReason)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})\n` +
          `${s.alerts} alerts${scenarios ? `: ${scenarios}` : ''} -> ${opts.out}\n` +
          `${s.watchList.length} more on the watch list (below the alert budget; --json lists them)\n`,
      );
    });
  monitor
    .command('simulate')
    .description('write a synthetic hospital (FHIR NDJSON with AuditEvents) with injected incidents and truth.ndjson')
    .requiredOption('--seed <n>', 'random seed', wholeNumber)
    .requiredOption('--users <n>', 'staff accounts', wholeNumber)
    .requiredOption('--patients <n>', 'patients', wholeNumber)
    .requiredOption('--days <n>', 'days of activity', wholeNumber)
    .requiredOption('--out <dir>', 'folder to write')
    .option('--start <date>', 'first day (YYYY-MM-DD, UTC)', '2025-03-03')
    .action(async (opts: { seed: number; users: number; patients: number; days: number; out: string; start: string }) => {
      const s = await simulate({ ...opts, out: resolvePath(io, opts.out) });
      io.writeErr(
        `wrote ${s.events} AuditEvents and ${s.incidents} incidents (${Object.entries(s.byScenario)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}) to ${opts.out}\n`,
      );
    });
}
