/**
 * The update repository's ceremonies as the people at them run them: key holders with their own
 * key files (`updates keygen`, `updates sign`, local), the data folder's commands (`init-root`,
 * `delegate`, `stage`, `add-signature`) run by whoever holds the folder. And a device: an
 * unmodified tuf-js Updater, provisioned with the root `updates root` prints.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';
import { runCli, type InProcessOptions } from './cli.js';
import { tempDir } from './harness.js';

/** Deterministic image bytes (seeded): the same test makes the same images. */
export function imageBytes(seed: string, length: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * 32 < length; i++) parts.push(crypto.createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(parts).subarray(0, length);
}

export class Ceremony {
  readonly keyIds = new Map<string, string>();
  /** Proposal id of each unsigned file made here. */
  readonly ids = new Map<string, string>();

  /** `dataDir` commands run with `options` (inside a test server, or beside a real one). */
  constructor(
    readonly work: string,
    readonly dataDir: string,
    readonly options: InProcessOptions = {},
  ) {}

  /** A command; only a data-folder command is given `options` (a key holder's are local). */
  async run(args: string[], expectCode = 0, options: InProcessOptions = {}) {
    const r = await runCli(args, { ...options, cwd: this.work });
    assert.equal(r.code, expectCode, `${args.slice(0, 2).join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  }

  /** Runs a data-folder command. */
  data(args: string[], expectCode = 0) {
    return this.run([...args, '--data-dir', this.dataDir], expectCode, this.options);
  }

  async keygen(holder: string): Promise<string> {
    const r = await this.run(['updates', 'keygen', '--out', `${holder}.key`]);
    const id = /key id ([0-9a-f]{64})/.exec(r.stdout)![1];
    this.keyIds.set(holder, id);
    return id;
  }

  private n = 0;
  /** `holder` signs the unsigned file; returns the signature file's name. */
  async sign(holder: string, unsigned: string): Promise<string> {
    const out = `${holder}-${++this.n}.sig.json`;
    await this.run(['updates', 'sign', '--key', `${holder}.key`, '--in', unsigned, '--out', out]);
    return out;
  }

  /** Signs and adds, one holder after the other; returns the last add-signature output. */
  async approve(unsigned: string, holders: string[]): Promise<string> {
    let out = '';
    for (const h of holders) out = (await this.data(['updates', 'add-signature', '--in', await this.sign(h, unsigned)])).stdout;
    return out;
  }

  /** A proposal command with `--out FILE`; returns FILE. */
  async propose(args: string[], name: string): Promise<string> {
    const r = await this.data([...args, '--out', name]);
    this.ids.set(name, /\(proposal ([0-9a-f]{64})\)/.exec(r.stdout)![1]);
    return name;
  }

  writeImage(name: string, bytes: Buffer): string {
    fs.writeFileSync(path.join(this.work, name), bytes);
    return name;
  }

  async root(): Promise<string> {
    return (await this.data(['updates', 'root'])).stdout;
  }
}

/** A device: a fresh tuf-js Updater with its own folders, trusting `root`. */
export function device(root: string, server: string, targetBase = `${server}/updates/targets`) {
  const metadataDir = tempDir('carewall-device-');
  const targetDir = tempDir('carewall-device-targets-');
  fs.writeFileSync(path.join(metadataDir, 'root.json'), root);
  const boot = () =>
    new Updater({ metadataDir, targetDir, metadataBaseUrl: `${server}/updates/metadata`, targetBaseUrl: targetBase, config: { fetchRetry: 0 } });
  let updater = boot();
  return {
    get updater() {
      return updater;
    },
    /** The device starts again: a new Updater, with the metadata it trusted before (its metadata folder). */
    reboot() {
      updater = boot();
    },
    /** Refreshes and downloads a target; the verified bytes. */
    async fetch(targetPath: string): Promise<Buffer> {
      await updater.refresh();
      const info = await updater.getTargetInfo(targetPath);
      if (!info) throw new Error(`${targetPath}: no such target`);
      return fs.readFileSync(await updater.downloadTarget(info, path.join(targetDir, targetPath)));
    },
    cleanup() {
      fs.rmSync(metadataDir, { recursive: true, force: true });
      fs.rmSync(targetDir, { recursive: true, force: true });
    },
  };
}
