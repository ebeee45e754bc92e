/**
 * The `carewall` command line as a function: `runCommand(argv, io)` parses and runs one command and
 * returns its exit code. The `carewall` process calls it with its own terminal (main.ts), a running
 * server calls it for a `carewall` started beside it (control.ts), and tests call it in process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { isInitialised, loadSettings } from '../config.js';
import { createLogger } from '../log.js';
import { openCarewall, type Carewall } from '../runtime.js';
import { VERSION } from '../version.js';
import { registerAuditCommand } from './auditCommand.js';
import { registerBackupCommand } from './backupCommand.js';
import { registerClientCommand } from './clientCommand.js';
import { registerDeviceCommands } from './deviceCommand.js';
import type { CommandContext } from './context.js';
import { forwardToServer } from './control.js';
import { registerGuardCommand } from './guardCommand.js';
import { registerImportCommand } from './importCommand.js';
import { registerInstallationCommands } from './installationCommands.js';
import { resolvePath, type CommandIo } from './io.js';
import { registerMonitorCommand } from './monitorCommand.js';
import { registerUpdatesCommand } from './updatesCommand.js';
import { registerDirectorCommand } from './directorCommand.js';
import { registerInventoryCommand } from './inventoryCommand.js';
import { registerAdvisoryCommand } from './advisoryCommand.js';
import { registerPostureCommand } from './postureCommand.js';
import { registerUserCommand } from './userCommand.js';
import { registerAwarenessCommand } from './awarenessCommand.js';

export interface RunOptions {
  /** The command runs inside this server, on its open installation (never forwarded again). */
  insideServer?: Carewall;
}

/** What a server runs for a `carewall` beside it: the commands that work on its data folder, no other. */
const RUN_BY_THE_SERVER = [
  'user',
  'audit',
  'import',
  'client',
  'backup init',
  'backup run',
  'keys rotate',
  'guard release',
  ...['root', 'init-root', 'rotate-root', 'delegate', 'stage', 'add-signature', 'status', 'withdraw', 'device add', 'device list'].map((c) => `updates ${c}`),
  'director',
  'inventory',
  'advisories',
  'posture',
];

export async function runCommand(argv: string[], io: CommandIo, options: RunOptions = {}): Promise<number> {
  if (options.insideServer && !RUN_BY_THE_SERVER.some((c) => c.split(' ').every((word, i) => argv[i] === word))) {
    io.err('carewall: the running server runs only the commands that work on its data folder');
    return 1;
  }
  let exitCode = 0;
  const ctx: CommandContext = {
    io,
    insideServer: Boolean(options.insideServer),
    fail: (code = 1) => (exitCode = code),
    withCarewall: async (dataDir, fn) => {
      if (options.insideServer) return fn(serversOwn(options.insideServer, resolvePath(io, dataDir)));
      const cw = await openExisting(resolvePath(io, dataDir), io);
      try {
        return await fn(cw);
      } finally {
        await cw.close();
      }
    },
    onDataFolder:
      (action) =>
      async (...args) => {
        const command = args[args.length - 1] as Command;
        const dataDir = (command.opts() as { dataDir?: string }).dataDir;
        if (!options.insideServer && dataDir) {
          const code = await forwardToServer(resolvePath(io, dataDir), argv, io);
          if (code !== undefined) {
            exitCode = code;
            return;
          }
        }
        await action(...args);
      },
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander has said what was wrong
    io.err(`carewall: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  return exitCode;
}

function buildProgram(ctx: CommandContext): Command {
  const program = new Command()
    .name('carewall')
    .description("Carewall: a clinic's protective circuit around its patient data")
    .version(VERSION)
    // Set before any subcommand exists: subcommands inherit both.
    .exitOverride()
    .configureOutput({ writeOut: (t) => ctx.io.writeOut(t), writeErr: (t) => ctx.io.writeErr(t) })
    .showHelpAfterError();
  registerInstallationCommands(program, ctx, runCommand);
  registerUserCommand(program, ctx);
  registerAuditCommand(program, ctx);
  registerImportCommand(program, ctx);
  registerClientCommand(program, ctx);
  registerMonitorCommand(program, ctx);
  registerBackupCommand(program, ctx);
  registerGuardCommand(program, ctx);
  registerUpdatesCommand(program, ctx);
  registerDirectorCommand(program, ctx);
  registerInventoryCommand(program, ctx);
  registerAdvisoryCommand(program, ctx);
  registerPostureCommand(program, ctx);
  registerDeviceCommands(program, ctx);
  registerAwarenessCommand(program, ctx);
  return program;
}

export async function openExisting(dataDir: string, io: CommandIo): Promise<Carewall> {
  if (!isInitialised(dataDir)) throw new Error(`${dataDir} is not a Carewall installation; run 'carewall init --data-dir ${dataDir}' first`);
  return openCarewall(loadSettings(dataDir, io.env), createLogger(io.env.LOG_LEVEL ?? 'warn'));
}

/** Inside the server, a command may only name the folder the server serves. */
function serversOwn(cw: Carewall, dataDir: string): Carewall {
  const real = (dir: string) => (fs.existsSync(dir) ? fs.realpathSync(dir) : path.resolve(dir));
  if (real(cw.settings.dataDir) !== real(dataDir)) throw new Error(`this server serves ${real(cw.settings.dataDir)}, not ${dataDir}`);
  return cw;
}
