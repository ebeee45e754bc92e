/**
 * `carewall updates device add|list`: the devices the repository knows, each with its own public key
 * (from `carewall device init` on the device), and what they last reported. Works through the
 * running server like the other data-folder commands.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { parsePublicKey } from '../updates/index.js';
import type { CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerUpdatesDeviceCommands(
  updates: Command,
  dataCommand: (name: string, description: string, parent: Command) => Command,
  ctx: CommandContext,
): void {
  const { io, withCarewall } = ctx;
  const device = updates.command('device').description('devices: their keys, and the manifests they report');
  const sub = (name: string, description: string) => dataCommand(name, description, device);

  sub('add', "register a device and its public key (the .pub file 'carewall device init' wrote on the device)")
    .requiredOption('--id <id>', 'device id (as given to carewall device-agent --device-id)')
    .requiredOption('--public-key <file>', "the device's public key file (.pub)")
    .requiredOption('--hardware-id <id>', 'its hardware id')
    .requiredOption('--class <name>', 'its device class')
    .option('--json', 'print as JSON')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; id: string; publicKey: string; hardwareId: string; class: string; json?: boolean }) => {
        let text: string;
        try {
          text = fs.readFileSync(resolvePath(io, opts.publicKey), 'utf8');
        } catch {
          throw new Error(`${opts.publicKey}: cannot be read`);
        }
        const key = parsePublicKey(text, opts.publicKey);
        const d = { id: opts.id, deviceClass: opts.class, hardwareId: opts.hardwareId, publicHex: key.keyVal.public };
        await withCarewall(opts.dataDir, (cw) => cw.updates.devices.add(d));
        io.out(
          opts.json
            ? JSON.stringify({ id: d.id, deviceClass: d.deviceClass, hardwareId: d.hardwareId, keyid: key.keyID })
            : `device ${d.id} registered (key ${key.keyID})`,
        );
      }),
    );

  sub('list', 'registered devices, their last signed report, and flags: never-reported, unknown-image, silent')
    .option('--json', 'print as JSON')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const devices = await withCarewall(opts.dataDir, (cw) => cw.updates.devices.list());
        if (opts.json) return io.out(JSON.stringify({ devices }));
        for (const d of devices) {
          const last = d.lastReport
            ? `runs ${d.lastReport.target ?? 'its factory image'} ${d.lastReport.version}, reported ${d.lastReport.at}`
            : 'never reported';
          io.out(`${d.id} (${d.deviceClass}, ${d.hardwareId}): ${last}${d.flags.length ? ` [${d.flags.join(', ')}]` : ''}`);
        }
      }),
    );
}
