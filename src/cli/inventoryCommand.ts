/**
 * `carewall inventory import|list`: the equipment inventory from the data folder (docs/inventory.md),
 * as the system (the holder of the data folder); works through the running server.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { SYSTEM } from '../shared/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerInventoryCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const inventory = program.command('inventory').description('the equipment inventory: devices and their models');
  const dataCommand = (name: string, description: string) =>
    inventory.command(name).description(description).option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR).addHelpText('after', `\n${WHILE_SERVING}`);

  dataCommand('import', 'import devices from a CSV file, a CycloneDX BOM or a FHIR Bundle: all of them, or none')
    .requiredOption('--file <file>', 'the file')
    .option('--format <format>', 'csv, cyclonedx or fhir (default: from the file name and content)')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; file: string; format?: string }) => {
        let text: string;
        try {
          text = fs.readFileSync(resolvePath(io, opts.file), 'utf8');
        } catch {
          throw new Error(`${opts.file}: cannot be read`);
        }
        const format = opts.format ?? (opts.file.toLowerCase().endsWith('.csv') ? 'csv' : undefined);
        const r = await withCarewall(opts.dataDir, async (cw) => {
          if (format === 'csv') return cw.inventory.importCsv(SYSTEM, text);
          let json: { bomFormat?: unknown; resourceType?: unknown };
          try {
            json = JSON.parse(text) as typeof json;
          } catch {
            throw new Error(`${opts.file}: not JSON (give --format csv for a CSV file)`);
          }
          if (format === 'cyclonedx' || (!format && json.bomFormat === 'CycloneDX')) return cw.inventory.importCycloneDx(SYSTEM, json);
          if (format === 'fhir' || (!format && json.resourceType === 'Bundle')) return cw.inventory.importFhir(SYSTEM, json);
          throw new Error(`${opts.file}: neither a CycloneDX BOM nor a FHIR Bundle`);
        });
        io.out(`imported: ${r.created} new device(s), ${r.updated} updated`);
      }),
    );

  dataCommand('list', 'the fleet: each device, what it last reported, its flags')
    .option('--json', 'print as JSON')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const fleet = await withCarewall(opts.dataDir, (cw) => cw.inventory.fleet(SYSTEM));
        if (opts.json) return io.out(JSON.stringify({ devices: fleet }));
        for (const d of fleet)
          io.out(
            `${d.deviceId}: ${d.vendor} ${d.model} (${d.deviceClass}${d.lifeCritical ? ', life-critical' : ''}) at ${d.location ?? 'no location'}; ` +
              `${d.reported ? `runs ${d.reported.version}` : 'never reported'}${d.flags.length ? ` [${d.flags.join(', ')}]` : ''}`,
          );
      }),
    );
}
