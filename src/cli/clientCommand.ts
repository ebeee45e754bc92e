/**
 * `carewall client add|list|disable`: registering system clients (SMART Backend Services), a thin
 * shell over clients/service.ts. Only public keys are registered: the client keeps its private key.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import type { ClientSummary } from '../clients/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerClientCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const show = (c: ClientSummary) =>
    `${c.id}  ${c.name}  ${c.disabled ? 'DISABLED' : 'active'}  ${c.scopes.join(' ')}  (${c.keys} key${c.keys === 1 ? '' : 's'})`;
  const client = program.command('client').description('system clients (SMART Backend Services): add, list, disable');

  client
    .command('add')
    .description('register a system client; prints its client_id (the iss and sub of its assertions)')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--name <name>', 'a name for people, e.g. "lab-feed"')
    .requiredOption('--jwks <file>', 'a JSON file with the client\'s public keys: {"keys": [...]}')
    .requiredOption('--scopes <scopes>', 'space- or comma-separated system scopes, e.g. "system/Observation.write system/Patient.read"')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; name: string; jwks: string; scopes: string; json?: boolean }) => {
        let jwks: unknown;
        try {
          jwks = JSON.parse(fs.readFileSync(resolvePath(io, opts.jwks), 'utf8'));
        } catch {
          throw new Error(`${opts.jwks}: not a readable JSON file`);
        }
        const scopes = opts.scopes.split(/[\s,]+/).filter(Boolean);
        const added = await withCarewall(opts.dataDir, (cw) => cw.clients.register({ name: opts.name, jwks, scopes }));
        io.out(opts.json ? JSON.stringify(added) : `Registered ${added.name}: client_id ${added.id}\nscopes: ${added.scopes.join(' ')}`);
      }),
    );

  client
    .command('list')
    .description('list registered system clients')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const list = await withCarewall(opts.dataDir, (cw) => cw.clients.list());
        io.out(opts.json ? JSON.stringify(list) : list.length === 0 ? 'No system clients.' : list.map(show).join('\n'));
      }),
    );

  client
    .command('disable')
    .description('disable a system client (by client_id or name); its tokens end at once')
    .argument('<client>', 'client_id or name')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (id: string, opts: { dataDir: string }) => {
        const c = await withCarewall(opts.dataDir, (cw) => cw.clients.disable(id));
        io.out(`Disabled ${c.name} (${c.id}).`);
      }),
    );
}
