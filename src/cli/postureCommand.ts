/**
 * `carewall posture report|show`: where the clinic stands against HHS 405(d) HICP (docs/posture.md).
 * `report` writes the board report (PDF) and, with --json, the machine-readable export; both work
 * while `carewall start` serves the folder (the server then measures and renders).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { renderBoardReport, scorecardJson } from '../posture/index.js';
import { SYSTEM } from '../shared/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerPostureCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const posture = program.command('posture').description('the clinic against HHS 405(d) HICP: the scorecard and the board report');
  posture
    .command('report')
    .description('write the board report (PDF) of the scorecard measured now, with its trend')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--out <file>', 'the PDF to write')
    .option('--json <file>', 'also write the scorecard and its history as JSON')
    .option('--clinic <name>', 'the clinic’s name on the report', 'The clinic')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; out: string; json?: string; clinic: string }) => {
        const { card, history } = await withCarewall(opts.dataDir, async (cw) => {
          const card = await cw.posture.refresh(SYSTEM);
          return { card, history: (await cw.posture.history(SYSTEM)).map(({ at, inPlace, total, threats }) => ({ at, inPlace, total, threats })) };
        });
        fs.writeFileSync(resolvePath(io, opts.out), await renderBoardReport(card, history, { name: opts.clinic }));
        if (opts.json) fs.writeFileSync(resolvePath(io, opts.json), JSON.stringify(scorecardJson(card, history), null, 2));
        io.out(`board report written to ${opts.out}: ${card.summary.text}`);
      }),
    );
  posture
    .command('show')
    .description('the scorecard measured now: practices, threats and the next steps')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--json', 'print the scorecard as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const card = await withCarewall(opts.dataDir, (cw) => cw.posture.refresh(SYSTEM));
        if (opts.json) return io.out(JSON.stringify(card));
        io.out(card.summary.text);
        for (const p of card.practices) io.out(`  ${p.id} ${p.title}: ${Math.round(p.score * 100)}%`);
      }),
    );
}
