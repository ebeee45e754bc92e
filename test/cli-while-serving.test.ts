/**
 * Every command that works on a data folder works while `carewall start` serves that folder (issue
 * 24): on the embedded database the server holds the folder, so the command is handed to the
 * server through control.sock and run there; its output, questions and exit code come back. The
 * commands here run in this process (runCli), as the `carewall` binary runs them; the server is
 * the real binary.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, startCli, type CliServer } from './helpers/cli.js';
import { call, prepareInstallation, tempDir } from './helpers/harness.js';

const SECRET = 'a long password typed at the desk';

describe('the CLI while the server runs on the same data folder', () => {
  let dataDir: string;
  let work: string;
  let env: Record<string, string | undefined>;
  let server: CliServer;
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async () => {
    work = tempDir('carewall-serving-');
    // An installation as `init` leaves it (init itself is tried in cli.test.ts), served by the real binary.
    const inst = await prepareInstallation();
    dataDir = inst.dataDir;
    cleanups.push(inst.cleanup);
    env = { DATABASE_URL: inst.databaseUrl };
    server = await startCli(['start', '--data-dir', dataDir, '--port', '0'], env);
    cleanups.push(() => server.kill('SIGTERM'));
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('the control socket is the owner’s only', () => {
    assert.equal(fs.statSync(path.join(dataDir, 'control.sock')).mode & 0o777, 0o600);
  });

  test('user add (password from standard input, asked for by the server) and user list', async () => {
    const added = await runCli(['user', 'add', '--data-dir', dataDir, '--username', 'dr.desk', '--roles', 'nurse', '--password-stdin', '--json'], {
      env,
      input: `${SECRET}\n`,
    });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).username, 'dr.desk');
    assert.ok(!added.stdout.includes(SECRET) && !server.output().includes(SECRET), 'the password is printed nowhere');
    // The account exists in the running server at once.
    const login = await call(server.url, 'POST', '/api/session', {
      body: { username: 'dr.desk', password: SECRET },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(login.status, 201);
    const list = await runCli(['user', 'list', '--data-dir', dataDir, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as Array<{ username: string }>).map((a) => a.username),
      ['dr.desk'],
    );
  });

  test('a password typed at the terminal is asked for here, on behalf of the server', async () => {
    const questions: string[] = [];
    const added = await runCli(['user', 'add', '--data-dir', dataDir, '--username', 'typed', '--roles', 'nurse'], {
      env,
      promptHidden: async (q) => (questions.push(q), SECRET),
    });
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(questions, ['Password for typed: ', 'Again: ']);
  });

  test('a refusal comes back as the command’s error and exit code, and changes nothing', async () => {
    const refused = await runCli(['user', 'add', '--data-dir', dataDir, '--username', 'weak', '--roles', 'nurse', '--password-stdin'], {
      env,
      input: 'short\n',
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /at least 10 characters/);
    const list = await runCli(['user', 'list', '--data-dir', dataDir, '--json'], { env });
    assert.ok(!(JSON.parse(list.stdout) as Array<{ username: string }>).some((a) => a.username === 'weak'));
  });

  test('audit checkpoint writes where the command was typed; audit verify checks it', async () => {
    const here = fs.mkdtempSync(path.join(work, 'desk-'));
    const cp = await runCli(['audit', 'checkpoint', '--data-dir', dataDir, '--out', 'checkpoint.txt'], { env, cwd: here });
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(fs.readFileSync(path.join(here, 'checkpoint.txt'), 'utf8'), /^carewall/m);
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir, '--checkpoint', 'checkpoint.txt', '--json'], { env, cwd: here });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(JSON.parse(verify.stdout).ok, true);
  });

  test('backup init and backup run, with progress-free output and the recovery key shown once', async () => {
    const repo = path.join(work, 'repository');
    const init = await runCli(['backup', 'init', '--data-dir', dataDir, '--repository', repo, '--json'], { env });
    assert.equal(init.code, 0, init.stderr);
    const { recoveryKey } = JSON.parse(init.stdout) as { recoveryKey: string };
    assert.ok(recoveryKey.length > 20);
    assert.ok(!server.output().includes(recoveryKey), 'the recovery key is shown to the one who asked, not logged by the server');
    const run = await runCli(['backup', 'run', '--data-dir', dataDir, '--json'], { env });
    assert.equal(run.code, 0, run.stderr);
    const keyFile = path.join(work, 'recovery.key');
    fs.writeFileSync(keyFile, recoveryKey, { mode: 0o600 });
    const list = await runCli(['backup', 'list', '--repository', repo, '--recovery-key-file', keyFile, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(
      (JSON.parse(list.stdout) as { snapshots: Array<{ snapshot: string; database: boolean }> }).snapshots[0].snapshot,
      JSON.parse(run.stdout).snapshot,
    );
  });

  test('client add, list and disable', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { publicKey } = await generateKeyPair('ES384');
    const jwks = path.join(work, 'jwks.json');
    fs.writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' }] }));
    const added = await runCli(
      ['client', 'add', '--data-dir', dataDir, '--name', 'lab-feed', '--jwks', jwks, '--scopes', 'system/Observation.write', '--json'],
      { env },
    );
    assert.equal(added.code, 0, added.stderr);
    const disabled = await runCli(['client', 'disable', '--data-dir', dataDir, 'lab-feed'], { env });
    assert.equal(disabled.code, 0, disabled.stderr);
    const list = JSON.parse((await runCli(['client', 'list', '--data-dir', dataDir, '--json'], { env })).stdout) as Array<{ name: string; disabled: boolean }>;
    assert.equal(list.find((c) => c.name === 'lab-feed')?.disabled, true);
  });

  test('import FILE reads the file where the command was typed, and the server serves it at once', async () => {
    const here = fs.mkdtempSync(path.join(work, 'import-'));
    fs.writeFileSync(path.join(here, 'org.ndjson'), JSON.stringify({ resourceType: 'Organization', id: 'org-imported', name: 'Imported Clinic' }) + '\n');
    const r = await runCli(['import', '--data-dir', dataDir, 'org.ndjson', '--json'], { env, cwd: here });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).resources, 1);
  });

  test('through the control socket the server runs data-folder commands only', async () => {
    const { forwardToServer } = await import('../src/cli/control.js');
    let err = '';
    const io = {
      out: () => {},
      err: () => {},
      writeOut: () => {},
      writeErr: (t: string) => void (err += t),
      readStdin: async () => '',
      progress: () => ({ update: () => {}, stop: () => {} }),
      env: {},
      cwd: work,
    };
    const code = await forwardToServer(dataDir, ['vault', 'serve', '--dir', work, '--port', '0'], io);
    assert.equal(code, 1);
    assert.match(err, /runs only the commands that work on its data folder/);
  });

  test('every data-folder command says in --help that it works while the server runs', async () => {
    const commands = [
      ['user', 'add'],
      ['user', 'list'],
      ['user', 'disable'],
      ['audit', 'verify'],
      ['audit', 'checkpoint'],
      ['backup', 'init'],
      ['backup', 'run'],
      ['client', 'add'],
      ['client', 'list'],
      ['client', 'disable'],
      ['import'],
      ['keys', 'rotate'],
      ['guard', 'release'],
    ];
    for (const c of commands) {
      const help = await runCli([...c, '--help']);
      assert.equal(help.code, 0, c.join(' '));
      assert.match(help.stdout, /Works while `carewall start` serves the same data folder/, c.join(' '));
    }
  });

  test('without a server the same commands open the folder themselves', async () => {
    await server.kill('SIGTERM');
    const list = await runCli(['user', 'list', '--data-dir', dataDir, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.ok((JSON.parse(list.stdout) as Array<{ username: string }>).some((a) => a.username === 'dr.desk'));
    // Started again, the server has everything the commands did through it.
    const again = await startCli(['start', '--data-dir', dataDir, '--port', '0'], env);
    cleanups.push(() => again.kill('SIGTERM'));
    const login = await call(again.url, 'POST', '/api/session', {
      body: { username: 'dr.desk', password: SECRET },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(login.status, 201);
  });
});
