/**
 * `carewall import FILE...`: a thin shell over bulk/import.ts. A progress bar on a terminal, a
 * summary (counts per type) at the end; exit code 1 and the first bad line when anything is refused.
 */
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { importFiles } from '../bulk/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerImportCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  program
    .command('import')
    .description('load FHIR R4 resources from Bundles (JSON: transaction, batch, collection) and NDJSON files, keeping their ids; all or nothing')
    .argument('<files...>', 'Bundle .json files and .ndjson / .jsonl files (one resource per line)')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (files: string[], opts: { dataDir: string; json?: boolean }) => {
        const bar = io.progress('Importing (bytes)');
        const started = performance.now();
        const summary = await ctx
          .withCarewall(opts.dataDir, (cw) =>
            importFiles(
              cw,
              files.map((f) => resolvePath(io, f)),
              { onProgress: (done, total) => bar.update(done, total) },
            ),
          )
          .finally(() => bar.stop());
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) {
          io.out(JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(3)) }));
          return;
        }
        const types = Object.entries(summary.byType)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([type, n]) => `  ${type.padEnd(24)} ${n}`);
        io.out(`Imported ${summary.resources} resources from ${summary.files.length} file(s) in ${seconds.toFixed(1)} s:\n${types.join('\n')}`);
        for (const f of summary.files) io.out(`  ${f.name}: ${f.resources} resources, sha256 ${f.sha256}`);
      }),
    );
}
