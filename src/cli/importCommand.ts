/**
 * `carewall import FILE...`: a thin shell over bulk/import.ts. A progress bar on a terminal, a
 * summary (counts per type) at the end; exit code 1 and the first bad line when anything is refused.
 */
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { importFiles, type ImportSummary } from '../bulk/index.js';
import type { Carewall } from '../runtime.js';
import { progress } from './progress.js';

export function registerImportCommand(program: Command, open: (dataDir: string) => Promise<Carewall>): void {
  program
    .command('import')
    .description('load FHIR R4 resources from Bundles (JSON: transaction, batch, collection) and NDJSON files, keeping their ids; all or nothing')
    .argument('<files...>', 'Bundle .json files and .ndjson / .jsonl files (one resource per line)')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--json', 'print the summary as JSON')
    .action(async (files: string[], opts: { dataDir: string; json?: boolean }) => {
      const cw = await open(opts.dataDir);
      const bar = progress('Importing (bytes)');
      let summary: ImportSummary;
      const started = performance.now();
      try {
        summary = await importFiles(cw, files, { onProgress: (done, total) => bar.update(done, total) });
      } finally {
        bar.stop();
        await cw.close();
      }
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) {
        console.log(JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(3)) }));
        return;
      }
      const types = Object.entries(summary.byType)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, n]) => `  ${type.padEnd(24)} ${n}`);
      console.log(`Imported ${summary.resources} resources from ${summary.files.length} file(s) in ${seconds.toFixed(1)} s:\n${types.join('\n')}`);
      for (const f of summary.files) console.log(`  ${f.name}: ${f.resources} resources, sha256 ${f.sha256}`);
    });
}
