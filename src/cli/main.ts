#!/usr/bin/env node
/** The `carewall` command: a thin shell over setup, runtime and the capabilities. */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import * as OTPAuth from 'otpauth';
import { DEFAULT_DATA_DIR, isInitialised, loadSettings } from '../config.js';
import { makeShare } from '../guard/index.js';
import { seedDemoClinic } from '../demo/seed.js';
import { DatabaseInUseError } from '../db/database.js';
import { rotateMasterKey, type RotationResult } from '../keys/rotate.js';
import { requestRotation } from '../setup/control.js';
import { createLogger } from '../log.js';
import { openCarewall, type Carewall } from '../runtime.js';
import { registerAuditCommand } from './auditCommand.js';
import { registerBackupCommand } from './backupCommand.js';
import { registerImportCommand } from './importCommand.js';
import { registerClientCommand } from './clientCommand.js';
import { registerMonitorCommand } from './monitorCommand.js';
import { registerGuardCommand } from './guardCommand.js';
import { install } from '../setup/install.js';
import { assertLoopback, serve } from '../setup/serve.js';
import { VERSION } from '../version.js';
import { progress } from './progress.js';
import { registerUserCommand } from './userCommand.js';

const DEMO_DATA_DIR = './demo-data';
const DEMO_ADMIN = { username: 'admin', password: 'demo-admin-2026' };
const DEMO_LOGINS_FILE = 'demo-logins.json';
const DEMO_SHARE = 'documents';
const TOTP_FROM = (uri: string) => (OTPAuth.URI.parse(uri) as OTPAuth.TOTP).generate();

/** A folder holding only a demo (or nothing of anyone's): safe to rebuild. Never a real installation. */
function isLeftoverDemo(dir: string): boolean {
  if (isInitialised(dir)) return loadSettings(dir).demo;
  const ours = new Set(['master.key', 'pgdata', 'pgdata.lock', 'control.sock', 'audit.vkey', 'shares', 'guard']);
  return fs.readdirSync(dir).every((f) => ours.has(f));
}

const program = new Command()
  .name('carewall')
  .description("Carewall: a clinic's protective circuit around its patient data")
  .version(VERSION)
  .showHelpAfterError();

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
};
const wholeNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a whole number');
  return n;
};

async function openExisting(dataDir: string): Promise<Carewall> {
  if (!isInitialised(dataDir)) throw new Error(`${dataDir} is not a Carewall installation; run 'carewall init --data-dir ${dataDir}' first`);
  return openCarewall(loadSettings(dataDir), createLogger(process.env.LOG_LEVEL ?? 'warn'));
}

program
  .command('init')
  .description('create a new installation: data folder, master key file (0600), database schema and the first administrator')
  .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
  .requiredOption('--admin-user <name>', "the administrator's username")
  .option('--admin-password-stdin', "read the administrator's password from standard input")
  .option('--public-url <url>', 'the address clients reach this server at (https://carewall.clinic.example): what system clients sign their token requests for')
  .option('--json', 'print the result as JSON')
  .action(async (opts: { dataDir: string; adminUser: string; adminPasswordStdin?: boolean; publicUrl?: string; json?: boolean }) => {
    if (!opts.adminPasswordStdin) throw new Error('give the password on standard input with --admin-password-stdin (never on the command line)');
    const password = (await readStdin()).replace(/\r?\n$/, '');
    const result = await install({ dataDir: opts.dataDir, adminUser: opts.adminUser, adminPassword: password, publicUrl: opts.publicUrl, log: createLogger('warn') });
    await result.cw.close();
    const out = { username: result.username, totpUri: result.totpUri, dataDir: path.resolve(opts.dataDir) };
    if (opts.json) console.log(JSON.stringify(out));
    else {
      console.log(`Initialised ${out.dataDir}`);
      console.log(`Administrator: ${out.username}`);
      console.log(`Add this to an authenticator app (second factor): ${out.totpUri}`);
      console.log(`Keep ${path.join(out.dataDir, 'master.key')} safe and backed up apart from the database: without it no record can be read.`);
    }
  });

program
  .command('start')
  .description('serve an installation (the embedded database in the data folder, or DATABASE_URL)')
  .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
  .option('--port <port>', 'TCP port', port, 8080)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .action(async (opts: { dataDir: string; port: number; host: string }) => {
    const cw = await openExisting(opts.dataDir);
    const { url } = await serve(cw, opts.host, opts.port);
    console.log(`Carewall ${VERSION} listening on ${url} (database: ${cw.db.kind})`);
  });

program
  .command('demo-code')
  .description("a demo account's current second-factor code (demo installations only)")
  .argument('<username>')
  .option('--data-dir <dir>', 'data folder of the demo', DEMO_DATA_DIR)
  .action((username: string, opts: { dataDir: string }) => {
    const file = path.join(opts.dataDir, DEMO_LOGINS_FILE);
    // Only a demo folder has this file: a real installation's secrets are nowhere in plain text.
    if (!fs.existsSync(file)) throw new Error(`${opts.dataDir} is not a demo installation`);
    const login = (JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ username: string; totpUri?: string }>).find((l) => l.username === username);
    if (!login?.totpUri) throw new Error(`no demo account ${username} with a second factor`);
    console.log(TOTP_FROM(login.totpUri));
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
    if (process.env.DATABASE_URL) {
      // The demo is the embedded database by definition; never seed synthetic patients into a real server.
      console.log('DATABASE_URL is ignored in demo mode: the demo uses the embedded database.');
      delete process.env.DATABASE_URL;
    }
    const loginsFile = path.join(opts.dataDir, DEMO_LOGINS_FILE);
    if (fs.existsSync(opts.dataDir) && !fs.existsSync(loginsFile) && isLeftoverDemo(opts.dataDir)) {
      // The logins file is written last: without it, an earlier demo set-up was interrupted.
      console.log(`An earlier demo set-up in ${path.resolve(opts.dataDir)} did not finish; starting it again.`);
      fs.rmSync(opts.dataDir, { recursive: true, force: true });
    }
    const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
    const logins: Array<{ username: string; password: string; roles: string[]; totpUri?: string; description?: string }> = [];
    let cw: Carewall;
    if (!isInitialised(opts.dataDir)) {
      console.log(`Creating a demo clinic in ${path.resolve(opts.dataDir)} ...`);
      // A synthetic file share of letters, scans and images, watched by the ransomware guard with
      // decoys; it is a test share, so 'carewall guard simulate' may attack it.
      const demoShare = { backup: { shares: { [DEMO_SHARE]: `shares/${DEMO_SHARE}` }, everyHours: 0 }, guard: { decoys: true, readOnlyOnAlarm: true } };
      const created = await install({ dataDir: opts.dataDir, adminUser: DEMO_ADMIN.username, adminPassword: DEMO_ADMIN.password, demo: true, sections: demoShare, log });
      cw = created.cw;
      await makeShare(path.join(opts.dataDir, 'shares', DEMO_SHARE), { files: 120, seed: opts.seed });
      const bar = progress('Seeding demo patients');
      const seeded = await seedDemoClinic(cw, { patients: opts.patients, seed: opts.seed, onProgress: (d, t) => bar.update(d, t) });
      bar.stop();
      logins.push({ username: DEMO_ADMIN.username, password: DEMO_ADMIN.password, roles: ['admin'], totpUri: created.totpUri, description: 'administrator' });
      logins.push(...seeded.logins);
      fs.writeFileSync(loginsFile, JSON.stringify(logins, null, 2) + '\n', { mode: 0o600 });
    } else {
      cw = await openCarewall(loadSettings(opts.dataDir), log);
      if (!cw.settings.demo) throw new Error(`${opts.dataDir} is not a demo installation; use 'carewall start'`);
      logins.push(...JSON.parse(fs.readFileSync(loginsFile, 'utf8')));
    }
    const { url } = await serve(cw, opts.host, opts.port);
    console.log(`\nCarewall demo clinic is running at ${url}`);
    console.log(`Web console: ${url}/   FHIR API: ${url}/fhir  (log in with POST ${url}/api/session)`);
    console.log(`Second factor: add an account's otpauth URI to an authenticator app, or get its current code with\n  npx carewall demo-code USERNAME --data-dir ${opts.dataDir}\n`);
    if (cw.guard.status().watching) {
      const share = path.join(opts.dataDir, 'shares', DEMO_SHARE);
      console.log(`Ransomware guard: watching the demo share ${share}. Attack it with\n  npx carewall guard simulate --dir ${share} --behaviour overwrite --limit 10\nand see the alarm under File shares (security-admin), then release the share there.\n`);
    }
    console.log('Demo logins (demo mode only; these passwords are public):');
    for (const l of logins as Array<{ username: string; password: string; roles: string[]; totpUri?: string }>) {
      console.log(`  ${l.username.padEnd(22)} ${l.password.padEnd(28)} ${l.roles.join(',')}${l.totpUri ? `  second factor: ${l.totpUri}` : ''}`);
    }
  });

const keys = program.command('keys').description('master and data keys');
keys
  .command('rotate')
  .description('make a new master key and re-wrap every data key under it; safe while the service runs')
  .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
  .action(async (opts: { dataDir: string }) => {
    const bar = progress('Re-wrapping data keys');
    let result: RotationResult;
    try {
      const cw = await openExisting(opts.dataDir);
      try {
        result = await rotateMasterKey(cw.keyring, opts.dataDir, (d, t) => bar.update(d, t));
      } finally {
        await cw.close();
      }
    } catch (err) {
      // The embedded database is held by the running server: ask it to rotate instead.
      if (!(err instanceof DatabaseInUseError)) throw err;
      result = await requestRotation(opts.dataDir, (d, t) => bar.update(d, t));
    }
    bar.stop();
    console.log(`Master key rotated: ${result.rewrapped} data keys re-wrapped under key ${result.currentKeyId}; retired: ${result.retired.join(', ') || 'none'}.`);
  });

registerUserCommand(program, openExisting);
registerAuditCommand(program, openExisting);
registerImportCommand(program, openExisting);
registerClientCommand(program, openExisting);
registerMonitorCommand(program);
registerBackupCommand(program, openExisting);
registerGuardCommand(program);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`carewall: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
