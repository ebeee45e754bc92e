/**
 * `carewall user add|disable|list`: account administration for whoever holds the data folder (and so
 * the master key) — the root of trust, hence these act as the system. Passwords come from standard
 * input or a hidden prompt, never from the command line (which other local users can read in `ps`),
 * and are never printed.
 */
import { Command } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { SYSTEM } from '../shared/index.js';
import type { AccountSummary } from '../identity/index.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import type { CommandIo } from './io.js';

export function registerUserCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const user = program.command('user').description('user accounts: add, disable, list');

  user
    .command('add')
    .description('create an account; prints the second-factor enrolment URI when its roles require one')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--username <name>', 'login name (1-64 of letters, digits, . _ @ -; case-insensitive)')
    .requiredOption('--roles <list>', 'comma-separated roles, e.g. physician,nurse')
    .option('--practitioner <reference>', "the linked FHIR practitioner, Practitioner/<id> (one linked before waits for a second person's approval)")
    .option('--password-stdin', 'read the password from standard input (otherwise it is asked for at the terminal)')
    .option('--valid-until <iso>', 'last moment the account may be used (ISO 8601), e.g. a locum’s last day')
    .option('--require-totp', 'ask for a second factor even when no role requires one')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: AddOptions) => {
        const password = await readPassword(opts, io);
        const roles = opts.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        const created = await withCarewall(opts.dataDir, (cw) =>
          cw.identity.createAccount(
            { username: opts.username, password, roles, practitioner: opts.practitioner, validUntil: opts.validUntil, requireTotp: opts.requireTotp },
            { who: SYSTEM },
          ),
        );
        if (opts.json) {
          io.out(
            JSON.stringify({
              id: created.id,
              username: created.username,
              roles: created.roles,
              practitioner: created.practitioner ?? null,
              ...(created.pendingPractitioner ? { pendingPractitioner: created.pendingPractitioner } : {}),
              validUntil: created.validUntil ?? null,
              totpUri: created.totpUri,
            }),
          );
          return;
        }
        io.out(`Created user ${created.username} (${created.id}) with roles ${created.roles.join(',')}`);
        if (created.practitioner) io.out(`Linked to ${created.practitioner}`);
        if (created.pendingPractitioner) {
          io.out(
            `Not linked yet: ${created.pendingPractitioner} is or was linked to another account. Another administrator or a privacy officer must approve it (POST /api/users/${created.username}/practitioner/approve); privacy officers have been told.`,
          );
        }
        if (created.validUntil) io.out(`Valid until ${created.validUntil}`);
        if (created.totpUri) {
          io.out('A second factor is required. Add this to an authenticator app; it is shown only once:');
          io.out(created.totpUri);
        }
      }),
    );

  user
    .command('disable')
    .description('disable an account and end its sessions at once')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .requiredOption('--username <name>', 'the account to disable')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; username: string; json?: boolean }) => {
        const result = await withCarewall(opts.dataDir, (cw) => cw.identity.disableAccount(opts.username, { who: SYSTEM }));
        if (opts.json) io.out(JSON.stringify({ username: opts.username.toLowerCase(), ...result }));
        else io.out(`Disabled ${opts.username.toLowerCase()}; ${result.revokedSessions} live session(s) ended.`);
      }),
    );

  user
    .command('list')
    .description('list accounts (no secrets)')
    .option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\n${WHILE_SERVING}`)
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const accounts = await withCarewall(opts.dataDir, (cw) => cw.identity.listAccounts({ who: SYSTEM }));
        if (opts.json) io.out(JSON.stringify(accounts));
        else io.out(formatTable(accounts));
      }),
    );
}

interface AddOptions {
  dataDir: string;
  username: string;
  roles: string;
  practitioner?: string;
  passwordStdin?: boolean;
  validUntil?: string;
  requireTotp?: boolean;
  json?: boolean;
}

async function readPassword(opts: AddOptions, io: CommandIo): Promise<string> {
  if (opts.passwordStdin) return (await io.readStdin()).replace(/\r?\n$/, '');
  if (!io.promptHidden) throw new Error('no terminal to ask for the password: give it on standard input with --password-stdin');
  const first = await io.promptHidden(`Password for ${opts.username}: `);
  const second = await io.promptHidden('Again: ');
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

function status(a: AccountSummary, now = Date.now()): string {
  if (a.disabled) return 'disabled';
  if (a.validUntil && Date.parse(a.validUntil) <= now) return 'ended';
  if (a.lockedUntil) return 'locked';
  return 'active';
}

function formatTable(accounts: AccountSummary[]): string {
  if (accounts.length === 0) return 'No accounts.';
  const rows = [
    ['USERNAME', 'ROLES', 'STATUS', '2FA', 'PRACTITIONER', 'VALID UNTIL', 'LAST LOGIN'],
    ...accounts.map((a) => [
      a.username,
      a.roles.join(','),
      status(a),
      a.totpRequired ? 'yes' : 'no',
      a.practitioner ?? '-',
      a.validUntil ?? '-',
      a.lastLoginAt ?? 'never',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
