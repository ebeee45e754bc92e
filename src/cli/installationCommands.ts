/**
 * `carewall init|start|demo|demo-code|keys rotate`: making, serving and keying an installation.
 * `start` and `demo` run until stopped and only ever in the `carewall` process itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { port, wholeNumber } from './argParsers.js';
import * as OTPAuth from 'otpauth';
import { DEFAULT_DATA_DIR, isInitialised, loadSettings } from '../config.js';
import { DEMO_RECOVERY_KEY_FILE } from '../backup/index.js';
import { makeShare } from '../guard/index.js';
import { rotateMasterKey } from '../keys/index.js';
import { createLogger } from '../log.js';
import { openCarewall, type Carewall } from '../runtime.js';
import { install } from '../setup/index.js';
import { assertLoopback, serve } from '../setup/index.js';
import { VERSION } from '../version.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { startControlSocket } from './control.js';
import { resolvePath, type CommandIo } from './io.js';
import { openExisting, type RunOptions } from './program.js';

type Run = (argv: string[], io: CommandIo, options?: RunOptions) => Promise<number>;

const DEMO_DATA_DIR = './demo-data';
const DEMO_ADMIN = { username: 'admin', password: 'demo-admin-2026' };
const DEMO_LOGINS_FILE = 'demo-logins.json';
const DEMO_SHARE = 'documents';
const TOTP_FROM = (uri: string) => (OTPAuth.URI.parse(uri) as OTPAuth.TOTP).generate();

/** A folder holding only a demo (or nothing of anyone's): safe to rebuild. Never a real installation. */
function isLeftoverDemo(dir: string): boolean {
  if (isInitialised(dir)) return loadSettings(dir).demo;
  const ours = new Set([
    'master.key',
    'pgdata',
    'pgdata.lock',
    'control.sock',
    'audit.vkey',
    'shares',
    'guard',
    'backups',
    'backup.key',
    DEMO_RECOVERY_KEY_FILE,
  ]);
  return fs.readdirSync(dir).every((f) => ours.has(f));
}

/**
 * The demo's synthetic-data generator (faker) is a development dependency: a clinic's server is
 * installed without it (npm install --omit=dev), so it is loaded here, only by the demo.
 */
async function loadDemo(): Promise<typeof import('../demo/index.js')> {
  try {
    return await import('../demo/index.js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error('the demo clinic needs the development dependencies (its synthetic-data generator): run npm install without --omit=dev');
  }
}

export function registerInstallationCommands(program: Command, ctx: CommandContext, run: Run): void {
  const { io } = ctx;
  // The server answers the commands a `carewall` beside it hands over for its data folder.
  const serveHere = (cw: Carewall, host: string, port: number) =>
    serve(cw, host, port, {
      startControl: (served) =>
        startControlSocket(
          served.settings.dataDir,
          (argv, remoteIo) => run(argv, remoteIo, { insideServer: served }),
          (err) => served.log.error({ err: err.message }, 'control channel'),
        ),
    });

  program
    .command('init')
    .description('create a new installation: data folder, master key file (0600), database schema and the first administrator')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--admin-user <name>', "the administrator's username")
    .option('--admin-password-stdin', "read the administrator's password from standard input")
    .option(
      '--public-url <url>',
      'the address clients reach this server at (https://carewall.clinic.example): what system clients sign their token requests for',
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { dataDir: string; adminUser: string; adminPasswordStdin?: boolean; publicUrl?: string; json?: boolean }) => {
      if (!opts.adminPasswordStdin) throw new Error('give the password on standard input with --admin-password-stdin (never on the command line)');
      const password = (await io.readStdin()).replace(/\r?\n$/, '');
      const dataDir = resolvePath(io, opts.dataDir);
      const result = await install({
        dataDir,
        adminUser: opts.adminUser,
        adminPassword: password,
        publicUrl: opts.publicUrl,
        env: io.env,
        log: createLogger('warn'),
      });
      await result.cw.close();
      const out = { username: result.username, totpUri: result.totpUri, dataDir };
      if (opts.json) io.out(JSON.stringify(out));
      else {
        io.out(`Initialised ${out.dataDir}`);
        io.out(`Administrator: ${out.username}`);
        io.out(`Add this to an authenticator app (second factor): ${out.totpUri}`);
        io.out(`Keep ${path.join(out.dataDir, 'master.key')} safe and backed up apart from the database: without it no record can be read.`);
      }
    });

  program
    .command('start')
    .description('serve an installation (the embedded database in the data folder, or DATABASE_URL)')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--port <port>', 'TCP port', port, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { dataDir: string; port: number; host: string }) => {
      const cw = await openExisting(resolvePath(io, opts.dataDir), io);
      const { url } = await serveHere(cw, opts.host, opts.port);
      io.out(`Carewall ${VERSION} listening on ${url} (database: ${cw.db.kind})`);
    });

  program
    .command('demo-code')
    .description("a demo account's current second-factor code (demo installations only)")
    .argument('<username>')
    .option('--data-dir <dir>', 'data folder of the demo', DEMO_DATA_DIR)
    .action(async (username: string, opts: { dataDir: string }) => {
      const file = path.join(resolvePath(io, opts.dataDir), DEMO_LOGINS_FILE);
      // Only a demo folder has this file: a real installation's secrets are nowhere in plain text.
      if (!fs.existsSync(file)) throw new Error(`${opts.dataDir} is not a demo installation`);
      const login = (JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ username: string; totpUri?: string }>).find((l) => l.username === username);
      if (!login?.totpUri) throw new Error(`no demo account ${username} with a second factor`);
      io.out(TOTP_FROM(login.totpUri));
    });

  program
    .command('demo')
    .description('create (on first run) and serve a demo clinic with synthetic patients; loopback only')
    .option('--data-dir <dir>', 'data folder for the demo', DEMO_DATA_DIR)
    .option('--port <port>', 'TCP port', port, 8080)
    .option('--host <host>', 'address to listen on (loopback only)', '127.0.0.1')
    .option('--patients <n>', 'synthetic patients to generate', wholeNumber, 500)
    .option('--seed <n>', 'random seed for the synthetic clinic', wholeNumber, 2026)
    .action(async (opts: { dataDir: string; port: number; host: string; patients: number; seed: number }) => {
      assertLoopback(opts.host); // before seeding: no point building a clinic that will not be served
      // The demo is the embedded database by definition; never seed synthetic patients into a real server.
      const env = { ...io.env };
      if (env.DATABASE_URL) {
        io.out('DATABASE_URL is ignored in demo mode: the demo uses the embedded database.');
        delete env.DATABASE_URL;
      }
      const dataDir = resolvePath(io, opts.dataDir);
      const loginsFile = path.join(dataDir, DEMO_LOGINS_FILE);
      if (fs.existsSync(dataDir) && !fs.existsSync(loginsFile) && isLeftoverDemo(dataDir)) {
        // The logins file is written last: without it, an earlier demo set-up was interrupted.
        io.out(`An earlier demo set-up in ${dataDir} did not finish; starting it again.`);
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
      const log = createLogger(io.env.LOG_LEVEL ?? 'warn');
      const logins: Array<{ username: string; password: string; roles: string[]; totpUri?: string; description?: string }> = [];
      let cw: Carewall;
      if (!isInitialised(dataDir)) {
        io.out(`Creating a demo clinic in ${dataDir} ...`);
        const { seedDemoClinic, setUpDemoBackups } = await loadDemo();
        // A synthetic file share of letters, scans and images, watched by the ransomware guard with
        // decoys; it is a test share, so 'carewall guard simulate' may attack it. Backed up daily
        // while the demo runs, as a clinic's would be.
        const demoShare = { backup: { shares: { [DEMO_SHARE]: `shares/${DEMO_SHARE}` }, everyHours: 24 }, guard: { decoys: true, readOnlyOnAlarm: true } };
        const created = await install({
          dataDir,
          adminUser: DEMO_ADMIN.username,
          adminPassword: DEMO_ADMIN.password,
          demo: true,
          sections: demoShare,
          env,
          log,
        });
        cw = created.cw;
        await makeShare(path.join(dataDir, 'shares', DEMO_SHARE), { files: 120, seed: opts.seed });
        const bar = io.progress('Seeding demo patients');
        const seeded = await seedDemoClinic(cw, { patients: opts.patients, seed: opts.seed, onProgress: (d, t) => bar.update(d, t) });
        bar.stop();
        io.out('Backing up the demo clinic and its share ...');
        await setUpDemoBackups(cw, dataDir);
        logins.push({ username: DEMO_ADMIN.username, password: DEMO_ADMIN.password, roles: ['admin'], totpUri: created.totpUri, description: 'administrator' });
        logins.push(...seeded.logins);
        fs.writeFileSync(loginsFile, JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 });
      } else {
        cw = await openCarewall(loadSettings(dataDir, env), log);
        if (!cw.settings.demo) throw new Error(`${opts.dataDir} is not a demo installation; use 'carewall start'`);
        logins.push(...JSON.parse(fs.readFileSync(loginsFile, 'utf8')));
      }
      const { url } = await serveHere(cw, opts.host, opts.port);
      io.out(`\nCarewall demo clinic is running at ${url}`);
      io.out(`Web console: ${url}/   FHIR API: ${url}/fhir  (log in with POST ${url}/api/session)`);
      io.out(
        `Second factor: add an account's otpauth URI to an authenticator app, or get its current code with\n  npx carewall demo-code USERNAME --data-dir ${opts.dataDir}\n`,
      );
      if (cw.guard.status().watching) {
        const share = path.join(opts.dataDir, 'shares', DEMO_SHARE);
        io.out(
          `Ransomware guard: watching the demo share ${share}. Attack it with\n  npx carewall guard simulate --dir ${share} --behaviour overwrite --limit 10\nand see the alarm under File shares (security-admin): it shows how to undo the attack from the demo's backups, then release the share there.\n`,
        );
      }
      const undo = cw.backups.restoreAdvice();
      if (undo?.recoveryKeyFile) {
        io.out(
          `Backups: the demo backs up to ${undo.repository}; its recovery key is in ${undo.recoveryKeyFile} (demo only: a clinic keeps it offline). List them with\n  npx carewall backup list --repository ${undo.repository} --recovery-key-file ${undo.recoveryKeyFile}\n`,
        );
      }
      io.out('Demo logins (demo mode only; these passwords are public):');
      for (const l of logins) {
        io.out(`  ${l.username.padEnd(22)} ${l.password.padEnd(28)} ${l.roles.join(',')}${l.totpUri ? `  second factor: ${l.totpUri}` : ''}`);
      }
    });

  const keys = program.command('keys').description('master and data keys');
  keys
    .command('rotate')
    .description('make a new master key and re-wrap every data key under it; safe while the service runs')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string }) => {
        const bar = io.progress('Re-wrapping data keys');
        const result = await ctx.withCarewall(opts.dataDir, (cw) => rotateMasterKey(cw.keyring, cw.settings.dataDir, (d, t) => bar.update(d, t)));
        bar.stop();
        io.out(
          `Master key rotated: ${result.rewrapped} data keys re-wrapped under key ${result.currentKeyId}; retired: ${result.retired.join(', ') || 'none'}.`,
        );
      }),
    );
}
