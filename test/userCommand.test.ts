/** `carewall user add|disable|list` against a real installation, with standard input and output captured. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type InProcessOptions } from './helpers/cli.js';
import { call, currentOtp, startTestServer, type TestServer } from './helpers/harness.js';

const SECRET = 'a long cli password 42';

describe('user command', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s?.close();
  });

  /**
   * Runs one command line inside the test server, as the server runs a command handed to it by a
   * `carewall` beside it; resolves with standard output, rejects with standard error.
   */
  async function run(args: string[], stdin = `${SECRET}\n`, opts: Pick<InProcessOptions, 'promptHidden'> = {}): Promise<string> {
    const r = await runCli(['user', ...args, '--data-dir', s.dataDir], { input: stdin, insideServer: s.cw, ...opts });
    if (r.code !== 0) throw new Error(r.stderr);
    return r.stdout.trimEnd();
  }

  test('add creates an account that can log in, and never prints the password', async () => {
    const out = await run(['add', '--username', 'Dr.Who', '--roles', 'physician, nurse', '--practitioner', 'Practitioner/p1', '--password-stdin']);
    assert.match(out, /Created user dr\.who .* with roles physician,nurse/);
    assert.ok(!out.includes(SECRET));
    assert.ok(!out.includes('otpauth://'));
    const r = await call(s.url, 'POST', '/api/session', { body: { username: 'dr.who', password: SECRET }, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 201);
  });

  test('add --json prints the TOTP URI when a role requires one', async () => {
    const out = JSON.parse(
      await run(['add', '--username', 'sec1', '--roles', 'security-admin', '--password-stdin', '--json', '--valid-until', '2099-01-01T00:00:00Z']),
    );
    assert.equal(out.username, 'sec1');
    assert.equal(out.validUntil, '2099-01-01T00:00:00.000Z');
    assert.match(out.totpUri, /^otpauth:\/\/totp\//);
    assert.ok(!JSON.stringify(out).includes(SECRET));
    const r = await call(s.url, 'POST', '/api/session', {
      body: { username: 'sec1', password: SECRET, otp: currentOtp(out.totpUri) },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 201);
  });

  test('add refuses bad input with a message that names the rule', async () => {
    await assert.rejects(run(['add', '--username', 'short', '--roles', 'nurse', '--password-stdin'], 'tiny\n'), /at least 10 characters/);
    await assert.rejects(run(['add', '--username', 'x1', '--roles', 'surgeon', '--password-stdin']), /the 1st is not a known role/);
    await assert.rejects(run(['add', '--username', 'dr.who', '--roles', 'nurse', '--password-stdin']), /already exists/);
  });

  test('add without --password-stdin asks at the terminal, or refuses when there is none', async () => {
    await assert.rejects(run(['add', '--username', 'noterm', '--roles', 'nurse'], ''), /--password-stdin/);
    const answers = [SECRET, 'something else'];
    await assert.rejects(run(['add', '--username', 'mismatch', '--roles', 'nurse'], '', { promptHidden: async () => answers.shift()! }), /differ/);
    const out = await run(['add', '--username', 'prompted', '--roles', 'nurse'], '', { promptHidden: async () => SECRET });
    assert.match(out, /Created user prompted/);
  });

  test('list shows accounts without secrets; disable ends sessions', async () => {
    const token = (
      await call(s.url, 'POST', '/api/session', { body: { username: 'dr.who', password: SECRET }, headers: { 'content-type': 'application/json' } })
    ).body.token as string;
    const table = await run(['list']);
    assert.match(table, /^USERNAME\s+ROLES\s+STATUS/);
    assert.match(table, /dr\.who\s+physician,nurse\s+active\s+no\s+Practitioner\/p1/);
    assert.ok(!/argon2|otpauth/.test(table));

    assert.match(await run(['disable', '--username', 'DR.WHO']), /Disabled dr\.who; 2 live session\(s\) ended/);
    assert.equal(await s.cw.identity.authenticate(token), null);
    const list = JSON.parse(await run(['list', '--json']));
    assert.equal(list.find((a: { username: string }) => a.username === 'dr.who').disabled, true);
    await assert.rejects(run(['disable', '--username', 'nobody']), /no such account/);
  });

  test('each subcommand has --help naming --data-dir', async () => {
    for (const sub of ['add', 'disable', 'list']) {
      const help = await runCli(['user', sub, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--data-dir/);
      assert.match(help.stdout, /Works while `carewall start` serves the same data folder/);
    }
  });
});
