/** `carewall advisories import|list`: CSAF advisories from the data folder (docs/advisories.md); works through the running server. */
import fs from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { SYSTEM } from '../shared/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerAdvisoryCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const advisories = program.command('advisories').description('security advisories (CSAF 2.0) matched to the equipment');
  const dataCommand = (name: string, description: string) =>
    advisories.command(name).description(description).option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR).addHelpText('after', `\n${WHILE_SERVING}`);

  dataCommand('import', 'import a CSAF 2.0 advisory (validated; a newer revision keeps the older)')
    .requiredOption('--file <file>', 'the CSAF JSON document')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; file: string }) => {
        let doc: unknown;
        try {
          doc = JSON.parse(fs.readFileSync(resolvePath(io, opts.file), 'utf8'));
        } catch {
          throw new Error(`${opts.file}: cannot be read as JSON`);
        }
        const r = await withCarewall(opts.dataDir, (cw) => cw.advisories.import(SYSTEM, doc));
        io.out(`advisory ${r.id} revision ${r.version} imported: it may affect ${r.devices} device(s)`);
      }),
    );

  dataCommand('list', 'the advisories and how many devices each may affect')
    .option('--json', 'print as JSON')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const list = await withCarewall(opts.dataDir, (cw) => cw.advisories.list(SYSTEM));
        if (opts.json) return io.out(JSON.stringify({ advisories: list }));
        for (const a of list) io.out(`${a.id} (revision ${a.version}, ${a.severity ?? 'no severity'}): ${a.title}; ${a.devices} device(s)`);
      }),
    );
}
