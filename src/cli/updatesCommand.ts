/**
 * `carewall updates ...`: the equipment update repository (docs/updates.md), a thin shell over
 * src/updates. `keygen` and `sign` are a key holder's, at their own desk: no data folder, no
 * server, and the private key never leaves the file. The other commands work on the data folder
 * (through the running server when there is one) and are given public keys and signatures only.
 */
import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_DATA_DIR } from '../config.js';
import { parsePublicKey, parseSignatureFile, readPrivateKeyFile, signProposal, writeKeyFiles, type Proposal } from '../updates/index.js';
import { wholeNumber } from './argParsers.js';
import { WHILE_SERVING, type CommandContext } from './context.js';
import { resolvePath, type CommandIo } from './io.js';
import { registerUpdatesDeviceCommands } from './updatesDeviceCommand.js';

const threshold = (v: string) => {
  const n = wholeNumber(v);
  if (n < 1) throw new InvalidArgumentError('a threshold is at least 1');
  return n;
};

/** A detached signature as vendors publish it: the raw bytes, or the same in base64 text. */
function readVendorSignature(io: CommandIo, file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(resolvePath(io, file));
  } catch {
    throw new Error(`${file}: cannot be read`);
  }
  const text = bytes.toString('latin1').trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : bytes;
}

function readText(io: CommandIo, file: string): string {
  try {
    return fs.readFileSync(resolvePath(io, file), 'utf8');
  } catch {
    throw new Error(`${file}: cannot be read`);
  }
}

/** Writes a file the command produces; an existing file is never replaced. */
function writeNew(io: CommandIo, file: string, text: string): void {
  try {
    fs.writeFileSync(resolvePath(io, file), text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} exists already; it is not replaced`);
    throw err;
  }
}

/** Checked before a proposal is made: a refused --out must leave nothing proposed. */
function mustBeNew(io: CommandIo, file: string): void {
  if (fs.existsSync(resolvePath(io, file))) throw new Error(`${file} exists already; it is not replaced`);
}

export function registerUpdatesCommand(program: Command, ctx: CommandContext): void {
  const { io, withCarewall } = ctx;
  const keys = (files: string[]) => files.map((f) => parsePublicKey(readText(io, f), f));
  const handOut = (p: Proposal, out: string) => {
    writeNew(io, out, p.unsigned);
    io.out(`${p.role} version ${p.version} awaits signatures: ${out} (proposal ${p.id})`);
    io.out(`Each key holder runs 'carewall updates sign --key THEIR_KEY --in ${out} --out SIG.json'; then 'carewall updates add-signature --in SIG.json'.`);
  };
  const updates = program.command('updates').description('the TUF repository of clinical equipment updates: keys, ceremonies, releases');

  updates
    .command('keygen')
    .description("a key holder's new Ed25519 key: FILE (private, 0600; keep it offline) and FILE.pub (give this one)")
    .requiredOption('--out <file>', 'private key file to create')
    .action(async (opts: { out: string }) => {
      const pub = writeKeyFiles(resolvePath(io, opts.out));
      io.out(`key id ${pub.keyid}\nprivate key: ${opts.out} (keep it offline; it is never given to the server)\npublic key: ${opts.out}.pub`);
    });

  updates
    .command('sign')
    .description('sign a proposal at your own desk (no server): shows what it says, writes your signature file')
    .requiredOption('--key <file>', 'your private key file (from keygen)')
    .requiredOption('--in <file>', 'the unsigned metadata the server prepared')
    .requiredOption('--out <file>', 'signature file to create')
    .action(async (opts: { key: string; in: string; out: string }) => {
      mustBeNew(io, opts.out);
      const { summary, signature } = signProposal(readText(io, opts.in), opts.in, readPrivateKeyFile(resolvePath(io, opts.key)));
      for (const line of summary) io.err(line);
      writeNew(io, opts.out, JSON.stringify(signature, null, 2) + '\n');
      io.out(`signed ${signature.role} version ${signature.version} with key ${signature.keyid}: ${opts.out}`);
    });

  const dataCommand = (name: string, description: string, parent: Command = updates) =>
    parent.command(name).description(description).option('--data-dir <dir>', 'data folder', DEFAULT_DATA_DIR).addHelpText('after', `\n${WHILE_SERVING}`);

  dataCommand('root', "the repository's current root metadata (JSON), to provision devices with").action(
    ctx.onDataFolder(async (opts: { dataDir: string }) => {
      io.out(await withCarewall(opts.dataDir, (cw) => cw.updates.root()));
    }),
  );

  const rootCeremony = (name: string, description: string) =>
    dataCommand(name, description)
      .requiredOption('--root-key <file...>', 'root holders’ public key files (.pub); 3 for 2 of 3')
      .option('--root-threshold <n>', 'root signatures needed (at least 2)', threshold, 2)
      .requiredOption('--targets-key <file...>', 'top-level targets holders’ public key files (.pub)')
      .option('--targets-threshold <n>', 'targets signatures needed', threshold, 1)
      .requiredOption('--out <file>', 'unsigned root metadata to create, for the holders to sign')
      .action(
        ctx.onDataFolder(
          async (opts: {
            dataDir: string;
            rootKey: string[];
            rootThreshold: number;
            targetsKey: string[];
            targetsThreshold: number;
            newOnlineKeys?: boolean;
            out: string;
          }) => {
            mustBeNew(io, opts.out);
            const plan = {
              newOnlineKeys: Boolean(opts.newOnlineKeys),
              rootKeys: keys(opts.rootKey),
              rootThreshold: opts.rootThreshold,
              targetsKeys: keys(opts.targetsKey),
              targetsThreshold: opts.targetsThreshold,
            };
            const p = await withCarewall(opts.dataDir, async (cw) => {
              const current = await cw.updates.root().catch(() => undefined);
              if (name === 'init-root' && current) throw new Error('the repository has a root already; rotate it with carewall updates rotate-root');
              if (name === 'rotate-root' && !current) throw new Error('the repository has no root yet; start with carewall updates init-root');
              return cw.updates.proposeRoot(plan);
            });
            handOut(p, opts.out);
          },
        ),
      );
  rootCeremony('init-root', 'first ceremony: propose root version 1 (online snapshot and timestamp keys are made now, sealed)');
  rootCeremony('rotate-root', 'propose the next root (new keys, or the same renewed): signed by a threshold of the old AND the new root keys').option(
    '--new-online-keys',
    'replace the server’s snapshot and timestamp keys (a suspected theft): once published, the old ones sign nothing a device accepts',
  );

  dataCommand('delegate', 'propose top-level targets assigning a device class to its engineers’ keys (signed by the targets key)')
    .requiredOption('--class <name>', 'device class, e.g. infusion-pump')
    .requiredOption('--engineer-key <file...>', 'the assigned engineers’ public key files (.pub)')
    .option('--life-critical', 'two different engineers must sign each release (threshold 2)')
    .requiredOption('--out <file>', 'unsigned targets metadata to create')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; class: string; engineerKey: string[]; lifeCritical?: boolean; out: string }) => {
        mustBeNew(io, opts.out);
        const plan = { deviceClass: opts.class, engineerKeys: keys(opts.engineerKey), lifeCritical: Boolean(opts.lifeCritical) };
        handOut(await withCarewall(opts.dataDir, (cw) => cw.updates.proposeDelegation(plan)), opts.out);
      }),
    );

  dataCommand('stage', 'keep an image and propose the class’s next targets with it, for its engineers to sign')
    .requiredOption('--class <name>', 'device class')
    .requiredOption('--file <image>', 'the image')
    .requiredOption('--name <name>', 'its name in the repository (the target path is <class>.<name>)')
    .requiredOption('--hardware-id <id...>', 'hardware ids the image is for')
    .requiredOption('--release-counter <n>', 'above every earlier release of the class (devices refuse to go back)', wholeNumber)
    .requiredOption('--min-upgrade-from <version>', 'the lowest installed version that may upgrade to it')
    .option('--image-version <version>', 'the version the image installs (devices report it; the device agent needs it)')
    .option('--vendor-key-id <id>', 'the recorded vendor key (GET /updates/vendors) whose signature comes with the image')
    .option('--vendor-signature <file>', 'the vendor’s detached signature of the image (checked now, and again by devices)')
    .option('--without-vendor-signature', 'an image no vendor signed (an in-house package): devices provisioned with vendor keys refuse it')
    .requiredOption('--out <file>', 'unsigned class metadata to create')
    .action(
      ctx.onDataFolder(
        async (opts: {
          dataDir: string;
          class: string;
          file: string;
          name: string;
          hardwareId: string[];
          releaseCounter: number;
          minUpgradeFrom: string;
          imageVersion?: string;
          vendorKeyId?: string;
          vendorSignature?: string;
          withoutVendorSignature?: boolean;
          out: string;
        }) => {
          mustBeNew(io, opts.out);
          const file = resolvePath(io, opts.file);
          if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Error(`${opts.file} is not a file`);
          // The vendor's signature is checked on import, here as in the console; leaving it out is said, not assumed.
          const signed = opts.vendorKeyId !== undefined || opts.vendorSignature !== undefined;
          if (signed === Boolean(opts.withoutVendorSignature) || (signed && (!opts.vendorKeyId || !opts.vendorSignature)))
            throw new Error('give --vendor-key-id and --vendor-signature (the vendor’s signature is checked now), or say --without-vendor-signature');
          const signature = opts.vendorSignature ? readVendorSignature(io, opts.vendorSignature) : undefined;
          const plan = {
            deviceClass: opts.class,
            file,
            name: opts.name,
            hardwareIds: opts.hardwareId,
            releaseCounter: opts.releaseCounter,
            minUpgradeFrom: opts.minUpgradeFrom,
            version: opts.imageVersion,
          };
          const staged = await withCarewall(opts.dataDir, async (cw) =>
            cw.updates.stage({
              ...plan,
              ...(signature ? { vendor: await cw.releases.vendorSignatureOf(opts.vendorKeyId!, signature, file) } : {}),
            }),
          );
          handOut(staged, opts.out);
        },
      ),
    );

  dataCommand('add-signature', 'add key holders’ signature files; publishes once the threshold verifies')
    .requiredOption('--in <file...>', 'signature files (from carewall updates sign)')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; in: string[] }) => {
        const sigs = opts.in.map((f) => parseSignatureFile(readText(io, f), f));
        await withCarewall(opts.dataDir, async (cw) => {
          for (const s of sigs) {
            const r = await cw.updates.addSignature(s);
            io.out(
              r.published
                ? `${r.role} version ${r.version} published (signature of ${s.keyid} added)`
                : `${r.role} version ${r.version}: signature of ${s.keyid} added; signed by ${r.signedBy.length} key(s) so far, not yet enough`,
            );
          }
        });
      }),
    );

  dataCommand('status', 'published versions and expiries; proposals awaiting signatures')
    .option('--json', 'print as JSON')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; json?: boolean }) => {
        const s = await withCarewall(opts.dataDir, (cw) => cw.updates.status());
        if (opts.json) return io.out(JSON.stringify(s));
        for (const p of s.published) io.out(`${p.role} version ${p.version}, expires ${p.expires}`);
        for (const p of s.pending) io.out(`awaiting signatures: ${p.role} version ${p.version} (${p.id}), signed by ${p.signedBy.length}`);
      }),
    );

  dataCommand('withdraw', 'withdraw a proposal awaiting signatures (it is kept, marked withdrawn)')
    .requiredOption('--id <proposal>', 'proposal id (carewall updates status)')
    .action(
      ctx.onDataFolder(async (opts: { dataDir: string; id: string }) => {
        await withCarewall(opts.dataDir, (cw) => cw.updates.withdraw(opts.id));
        io.out(`proposal ${opts.id} withdrawn`);
      }),
    );

  registerUpdatesDeviceCommands(updates, dataCommand, ctx);
}
