/**
 * The `carewall` command in tests. `runCli` runs a command line in this process, through the same
 * `runCommand` the binary calls, with its own standard input, output and environment (no process
 * to start: about a second of CPU less per call). `runBinary` and `startCli` run the real binary, the
 * build's dist/cli/main.js (./builtBinary.mjs says why and how it is kept current), for the smoke
 * tests of the process itself and for servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type RunOptions } from '../../src/cli/program.js';
import type { CommandIo } from '../../src/cli/io.js';
import type { Progress } from '../../src/cli/progress.js';
import { assertBuildCurrent, BINARY } from './builtBinary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The command line that starts the real binary, once the build is known to match the sources. */
export function binaryCommand(): string[] {
  assertBuildCurrent();
  return [BINARY];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface InProcessOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** Answers to hidden prompts, as if typed at a terminal; without it there is no terminal. */
  promptHidden?: (question: string) => Promise<string>;
  cwd?: string;
  /** Progress reports, label → [done, total] of each update. */
  progress?: Map<string, Array<[number, number]>>;
  insideServer?: RunOptions['insideServer'];
}

export async function runCli(args: string[], opts: InProcessOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = {
    out: (t) => (stdout += t + '\n'),
    err: (t) => (stderr += t + '\n'),
    writeOut: (t) => (stdout += t),
    writeErr: (t) => (stderr += t),
    readStdin: async () => opts.input ?? '',
    promptHidden: opts.promptHidden,
    progress: (label): Progress => ({
      update: (done, total) => {
        if (!opts.progress?.has(label)) opts.progress?.set(label, []);
        opts.progress?.get(label)!.push([done, total]);
      },
      stop: () => undefined,
    }),
    env: { ...cliEnv(opts.env), LOG_LEVEL: opts.env?.LOG_LEVEL ?? 'silent' },
    cwd: opts.cwd ?? ROOT,
  };
  const code = await runCommand(args, io, { insideServer: opts.insideServer });
  return { code, stdout, stderr };
}

/** Runs the real `carewall` command (the build's) as a child process. */
export function runBinary(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...binaryCommand(), ...args], { cwd: ROOT, env: cliEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export interface CliServer {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Waits for the process to exit after a signal. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `carewall start|demo ... --port 0` and resolves once it prints where it listens. */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 120_000): Promise<CliServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...binaryCommand(), ...args], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /(?:listening on|running at) (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          child,
          output: () => out,
          kill: (signal) =>
            new Promise<void>((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res();
              child.once('exit', () => res());
              child.kill(signal);
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}

function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.CAREWALL_MASTER_KEY;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}
