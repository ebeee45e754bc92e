/**
 * `carewall director ...`: the director's root ceremony (docs/director.md). Its root holders use the
 * image repository's `updates keygen` and `updates sign` at their own desks; these data-folder
 * commands propose the root, add their signatures, and print the root devices are provisioned with.
 * Rollouts are engineers' acts, logged in (POST /updates/rollouts): no data-folder command makes one.
 */
import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { parsePublicKey, parseSignatureFile } from '../updates/index.js';
import { wholeNumber } from './argParsers.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath } from './io.js';

export function registerDirectorCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const read = (file: string) => {
    try {
      return fs.readFileSync(resolvePath(io, file), 'utf8');
    } catch {
      throw new Error(`${file}: cannot be read`);
    }
  };
  const director = program.command('director').description('the director: which device installs which release, when (its root ceremony)');
  const dataCommand = (name: string, description: string) =>
    director.command(name).description(description).option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR).addHelpText('after', `\n${WHILE_SERVING}`);

  dataCommand('root', "the director's current root metadata (JSON): give it to each device (carewall device init --director-root)").action(
    ctx.onDataFolder(async (opts: { dataDir: string }) => {
      const root = await withCarewall(opts.dataDir, (cw) => cw.director.root.current());
      if (!root) throw new Error("the director has no root yet: run 'carewall director init-root' and sign it");
      io.out(JSON.stringify(root.toJSON()));
    }),
  );

  dataCommand('init-root', "propose the director's next root (the first: its online key is made now, sealed), for its holders to sign")
    .requiredOption('--root-key <file...>', "the director's root holders' public key files (.pub, from carewall updates keygen)")
    .option(
      '--root-threshold <n>',
      'root signatures needed (at least 2)',
      (v: string) => {
        const n = wholeNumber(v);
        if (n < 2) throw new InvalidArgumentError('at least 2');
        return n;
      },
      2,
    )
    .option('--new-online-key', 'replace the director’s online key (a suspected theft): once published, devices take nothing the old one signs')
    .requiredOption('--out <file>', 'unsigned root metadata to create')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; rootKey: string[]; rootThreshold: number; newOnlineKey?: boolean; out: string }) => {
        if (fs.existsSync(resolvePath(io, opts.out))) throw new Error(`${opts.out} exists already; it is not replaced`);
        const keys = opts.rootKey.map((f) => parsePublicKey(read(f), f));
        const p = await withCarewall(opts.dataDir, (cw) => cw.director.root.propose(keys, opts.rootThreshold, { newOnlineKey: Boolean(opts.newOnlineKey) }));
        fs.writeFileSync(resolvePath(io, opts.out), p.unsigned, { flag: 'wx' });
        io.out(`director root version ${p.version} awaits signatures: ${opts.out} (proposal ${p.id})`);
        io.out(
          `Each holder runs 'carewall updates sign --key THEIR_KEY --in ${opts.out} --out SIG.json'; then 'carewall director add-signature --in SIG.json'.`,
        );
      }),
    );

  dataCommand('add-signature', "add the director's root holders' signature files; publishes at the threshold")
    .requiredOption('--in <file...>', 'signature files (from carewall updates sign)')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; in: string[] }) => {
        const sigs = opts.in.map((f) => parseSignatureFile(read(f), f));
        await withCarewall(opts.dataDir, async (cw) => {
          for (const s of sigs) {
            const r = await cw.director.root.addSignature(s);
            io.out(r.published ? `director root version ${r.version} published` : `signature added; not yet enough for director root version ${r.version}`);
          }
        });
      }),
    );

  dataCommand('withdraw-root', "withdraw the director's root proposal awaiting signatures (kept, marked)").action(
    ctx.onDataFolder(async (opts: { dataDir: string }) => {
      const withdrawn = await withCarewall(opts.dataDir, (cw) => cw.director.root.withdraw());
      if (!withdrawn) throw new Error('no director root awaits signatures');
      io.out('withdrawn');
    }),
  );
}
