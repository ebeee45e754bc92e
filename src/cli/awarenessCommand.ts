/**
 * `carewall awareness triage`: judges one reported message (docs/awareness.md, "Triage"). It reads
 * a file and, for the domains, the data folder's carewall.json; it never opens the database and is
 * never forwarded to a running server, so it works on a mail gateway or a laptop with neither.
 *
 * Contract (other tools rely on it): `--json` prints {"verdict","score","reasons":[{"code","text"}]}
 * and exits 0 whatever the verdict; a file that cannot be read or is not a mail message exits 1 with
 * a message naming the file, never its content.
 */
import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { awarenessSettings, triageMessage, NotAMailMessage } from '../awareness/index.js';
import { DEFAULT_DATA_DIR, loadSettings } from '../config.js';
import type { CommandContext } from './context.js';
import { resolvePath } from './io.js';

/** Larger than any mail server accepts; a bigger file is not a reported message. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const domainList = (v: string) => {
  const domains = v
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  if (domains.length === 0 || domains.some((d) => !/^[a-z0-9.-]+\.[a-z0-9-]+$/.test(d)))
    throw new InvalidArgumentError('not a comma-separated list of domain names');
  return domains;
};

export function registerAwarenessCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  const awareness = program.command('awareness').description('staff awareness: phishing simulations, reported mail');

  awareness
    .command('triage')
    .description('judge a reported message: phishing, suspicious or clean, with the reasons')
    .requiredOption('--eml <file>', 'the message (RFC 822, as saved from the mail client)')
    .option('--json', 'print {"verdict","score","reasons"} as JSON')
    .option('--domains <list>', "the clinic's and its suppliers' domains, comma-separated (instead of awareness.domains in carewall.json)", domainList)
    .option('--data-dir <dir>', 'data folder whose carewall.json gives awareness.domains', DEFAULT_DATA_DIR)
    .addHelpText('after', '\nReads only the file and carewall.json: no database, no running server needed. DNS lookups give up after a few seconds.')
    .action(async (opts: { eml: string; json?: boolean; domains?: string[]; dataDir: string }) => {
      const domains = opts.domains ?? awarenessSettings(loadSettings(resolvePath(io, opts.dataDir), io.env), io.env).domains;
      let raw: Buffer;
      try {
        const file = resolvePath(io, opts.eml);
        if (fs.statSync(file).size > MAX_MESSAGE_BYTES) throw new Error('too large');
        raw = fs.readFileSync(file);
      } catch {
        throw new Error(`${opts.eml}: cannot be read as a message file`);
      }
      let result;
      try {
        result = await triageMessage(raw, { domains });
      } catch (err) {
        if (err instanceof NotAMailMessage) throw new Error(`${opts.eml}: not an e-mail message (no RFC 822 header block with From, Date or Subject)`);
        throw new Error(`${opts.eml}: the message could not be triaged`);
      }
      if (opts.json) {
        io.out(JSON.stringify({ verdict: result.verdict, score: result.score, reasons: result.reasons.map((r) => ({ code: r.code, text: r.text })) }));
        return;
      }
      io.out(`verdict: ${result.verdict} (score ${result.score})`);
      if (domains.length === 0) io.out('note: no clinic domains given (--domains or awareness.domains): look-alike checks had nothing to compare with');
      const a = result.authentication;
      io.out(`authentication: spf=${a.spf} dkim=${a.dkim} dmarc=${a.dmarc} arc=${a.arc}${a.dnsAvailable ? '' : ' (DNS did not answer)'}`);
      for (const r of result.reasons.filter((r) => r.weight !== 0)) io.out(`  ${r.weight > 0 ? '+' : ''}${r.weight} ${r.code}: ${r.text}`);
      io.out(`fingerprint: ${result.summary.fingerprint}`);
    });
}
