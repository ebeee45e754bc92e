/**
 * The device's side of equipment updates (docs/updates.md, "The device agent"): `carewall device
 * init` provisions a device (its own key and config), `carewall device-agent --once` brings it to
 * its release or refuses. Neither needs a data folder: they run on the gateway or service laptop.
 * Exit codes of the agent: 0 installed or up to date (the report's fate in `reported`), 3 refused.
 */
import { Command } from 'commander';
import fs from 'node:fs';
import { provisionDevice, runAgent, vendorKeyId, type AgentResult } from '../device/index.js';
import type { CommandContext } from './context.js';
import { resolvePath } from './io.js';

/** The contract's exit code for a refusal: any check failed, nothing was written into the install folder. */
export const REFUSED_EXIT = 3;

export function registerDeviceCommands(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const device = program.command('device').description("a device's own provisioning (for the device agent)");
  device
    .command('init')
    .description(
      "provision a device: its Ed25519 key FILE (0600), FILE.pub (give it to 'carewall updates device add'), FILE.json (class, hardware id, version)",
    )
    .requiredOption('--device-key <file>', 'private key file to create')
    .requiredOption('--class <name>', 'device class, as the repository delegates it')
    .requiredOption('--hardware-id <id>', "the device's hardware id")
    .requiredOption('--image-version <version>', 'the version the device runs now (its factory image)')
    .option('--director-root <file>', "the director's root (carewall director root): then the device installs only what the director instructs")
    .option('--vendor-key <file...>', "the equipment vendor's public key(s) (PEM): then every image must carry a valid signature of one")
    .action(async (opts: { deviceKey: string; class: string; hardwareId: string; imageVersion: string; vendorKey?: string[]; directorRoot?: string }) => {
      const vendorKeys = (opts.vendorKey ?? []).map((f) => {
        const pem = fs.readFileSync(resolvePath(io, f), 'utf8');
        vendorKeyId(pem); // a clear error now rather than a refusal at every run
        return pem;
      });
      let directorRoot: unknown;
      if (opts.directorRoot) {
        try {
          directorRoot = JSON.parse(fs.readFileSync(resolvePath(io, opts.directorRoot), 'utf8'));
        } catch {
          throw new Error(`${opts.directorRoot}: not a root metadata file (carewall director root writes one)`);
        }
        if ((directorRoot as { signed?: { _type?: unknown } })?.signed?._type !== 'root') throw new Error(`${opts.directorRoot}: not root metadata`);
      }
      const files = provisionDevice(resolvePath(io, opts.deviceKey), {
        deviceClass: opts.class,
        hardwareId: opts.hardwareId,
        version: opts.imageVersion,
        ...(vendorKeys.length > 0 ? { vendorKeys } : {}),
        ...(directorRoot ? { directorRoot } : {}),
      });
      io.out(`device key: ${opts.deviceKey} (keep it on the device)\npublic key: ${files.publicKeyFile}\nconfig: ${files.configFile}`);
    });

  program
    .command('device-agent')
    .description('verify (TUF, tuf-js) and install the release meant for this device, then report a signed manifest of what it runs')
    .requiredOption('--server <url>', 'the Carewall serving /updates')
    .requiredOption('--root <file>', 'the trusted root the device was provisioned with (carewall updates root)')
    .requiredOption('--device-key <file>', "the device's Ed25519 private key (carewall device init); its config is <file>.json")
    .requiredOption('--device-id <id>', 'the id the device is registered under (carewall updates device add)')
    .requiredOption('--install-dir <dir>', 'where verified images go; the agent keeps its state beside it')
    .option('--once', 'one run, then exit (the only mode: run it from a timer)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { server: string; root: string; deviceKey: string; deviceId: string; installDir: string; once?: boolean; json?: boolean }) => {
      if (!opts.once) throw new Error('give --once: the agent makes one run and exits (run it from a timer or the service laptop)');
      const result = await runAgent({
        server: opts.server,
        rootFile: resolvePath(io, opts.root),
        deviceKeyFile: resolvePath(io, opts.deviceKey),
        deviceId: opts.deviceId,
        installDir: resolvePath(io, opts.installDir),
      });
      if (opts.json) io.out(JSON.stringify(result));
      else io.out(describe(result));
      if ('refused' in result) ctx.fail(REFUSED_EXIT);
      else if (!result.reported) io.err(`the report of what runs was not delivered: ${result.reportError}`);
    });
}

function describe(r: AgentResult): string {
  if ('refused' in r) return `refused: ${r.refused}`;
  if ('upToDate' in r) return 'up to date';
  return `installed ${r.installed} (version ${r.version}, release counter ${r.releaseCounter})`;
}
