/** `carewall user add|disable|list` against a real installation, with standard input and output captured. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerUserCommand, type UserCommandIo } from '../src/cli/userCommand.js';
import type { Carewall } from '../src/runtime.js';
import { call, currentOtp, startTestServer, type TestServer } from './helpers/harness.js';

const SECRET = 'a long cli password 42';

describe('user command', () => {
  let s: TestServer;
  let opened: string[];
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s?.close();
  });

  /** Runs one command line; `open` hands out the test server's Carewall without letting the command close it. */
  async function run(args: string[], stdin = `${SECRET}\n`, io: Partial<UserCommandIo> = {}): Promise<string> {
    const lines: string[] = [];
    opened = [];
    const program = new Command().exitOverride().configureOutput({ writeOut: (t) => lines.push(t), writeErr: () => undefined });
    const cw: Carewall = { ...s.cw, close: async () => undefined };
    registerUserCommand(
      program,
      async (dataDir) => {
        opened.push(dataDir);
        return cw;
      },
      { readStdin: async () => stdin, out: (t) => lines.push(t), ...io },
    );
    await program.parseAsync(['node', 'carewall', 'user', ...args]);
    return lines.join('\n');
  }

  test('add creates an account that can log in, and never prints the password', async () => {
    const out = await run(['add', '--data-dir', '/some/dir', '--username', 'Dr.Who', '--roles', 'physician, nurse', '--practitioner', 'Practitioner/p1', '--password-stdin']);
    assert.deepEqual(opened, ['/some/dir']);
    assert.match(out, /Created user dr\.who .* with roles physician,nurse/);
    assert.ok(!out.includes(SECRET));
    assert.ok(!out.includes('otpauth://'));
    const r = await call(s.url, 'POST', '/api/session', { body: { username: 'dr.who', password: SECRET }, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 201);
  });

  test('add --json prints the TOTP URI when a role requires one', async () => {
    const out = JSON.parse(await run(['add', '--username', 'sec1', '--roles', 'security-admin', '--password-stdin', '--json', '--valid-until', '2099-01-01T00:00:00Z']));
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
    await assert.rejects(run(['add', '--username', 'x1', '--roles', 'surgeon', '--password-stdin']), /unknown role/);
    await assert.rejects(run(['add', '--username', 'dr.who', '--roles', 'nurse', '--password-stdin']), /already exists/);
  });

  test('add without --password-stdin asks at the terminal, or refuses when there is none', async () => {
    await assert.rejects(run(['add', '--username', 'noterm', '--roles', 'nurse'], '', { promptHidden: undefined }), /--password-stdin/);
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
      const lines: string[] = [];
      const program = new Command().exitOverride().configureOutput({ writeOut: (t) => lines.push(t), writeErr: (t) => lines.push(t) });
      registerUserCommand(program, async () => s.cw, { readStdin: async () => '', out: () => undefined });
      await assert.rejects(program.parseAsync(['node', 'carewall', 'user', sub, '--help']), { code: 'commander.helpDisplayed' });
      assert.match(lines.join(''), /--data-dir/);
    }
  });
});
