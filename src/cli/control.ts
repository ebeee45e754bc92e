/**
 * The local control channel: a Unix socket in the data folder (mode 0600, so the file system
 * decides who may use it, as with Docker's socket; whoever may open it may read master.key anyway).
 *
 * The embedded database can be open in one process only. So a `carewall` command given the data
 * folder of a running server does not open the folder itself: it hands its command line to the
 * server, which runs the very same command with its own open installation, and the answers come
 * back here: output, exit code, progress, and questions (standard input, a password typed at the
 * terminal) the command asks on the way. On PostgreSQL the same holds, so a command always sees
 * what the server sees.
 *
 * The protocol is one JSON object per line each way:
 *   client → server: {"argv":[...],"cwd":"...","env":{...},"terminal":bool}, then {"stdin":"..."}
 *                    or {"answer":"..."} when asked
 *   server → client: {"out":"..."} {"err":"..."} {"progress":[label,done,total]} {"progressEnd":label}
 *                    {"ask":"stdin"} {"ask":"prompt","question":"..."} and last {"exit":code}
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { CommandIo, Progress } from './io.js';

export const CONTROL_SOCKET = 'control.sock';
/** The environment a forwarded command may see: the caller's, never the server's secrets. */
const FORWARDED_ENV = ['CAREWALL_VAULT_TOKEN'];
/** Progress lines sent at most this often (a command may report thousands of steps). */
const PROGRESS_EVERY_MS = 200;

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, CONTROL_SOCKET);
}

type Run = (argv: string[], io: CommandIo) => Promise<number>;

interface Hello {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  terminal: boolean;
}

/** Serves commands for the data folder `dataDir`: each connection is one command, run by `run`. */
export async function startControlSocket(dataDir: string, run: Run, onError: (err: Error) => void): Promise<() => Promise<void>> {
  const socketPath = controlSocketPath(dataDir);
  fs.rmSync(socketPath, { force: true }); // left by a process that was killed
  const server = net.createServer((socket) => {
    serveOne(socket, run).catch((err: Error) => {
      onError(err);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  fs.chmodSync(socketPath, 0o600);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

async function serveOne(socket: net.Socket, run: Run): Promise<void> {
  const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
  const replies: string[] = [];
  let waiting: ((line: string | undefined) => void) | undefined;
  let ended = false;
  lines.on('line', (line) => (waiting ? (waiting(line), (waiting = undefined)) : replies.push(line)));
  lines.on('close', () => {
    ended = true;
    waiting?.(undefined);
  });
  const nextLine = () =>
    new Promise<string | undefined>((resolve) => {
      if (replies.length) resolve(replies.shift());
      else if (ended) resolve(undefined);
      else waiting = resolve;
    });
  const send = (msg: object) => {
    if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n');
  };
  const ask = async (msg: object, field: 'stdin' | 'answer'): Promise<string> => {
    send(msg);
    const line = await nextLine();
    if (line === undefined) throw new Error('the command was cancelled');
    const value = (JSON.parse(line) as Record<string, unknown>)[field];
    if (typeof value !== 'string') throw new Error('the command was cancelled');
    return value;
  };

  const first = await nextLine();
  if (first === undefined) return;
  const hello = JSON.parse(first) as Hello;
  if (!Array.isArray(hello.argv) || !hello.argv.every((a) => typeof a === 'string') || typeof hello.cwd !== 'string') throw new Error('not a command');
  const env: NodeJS.ProcessEnv = {};
  for (const k of FORWARDED_ENV) if (typeof hello.env?.[k] === 'string') env[k] = hello.env[k];
  const io: CommandIo = {
    out: (text) => send({ out: text + '\n' }),
    err: (text) => send({ err: text + '\n' }),
    writeOut: (text) => send({ out: text }),
    writeErr: (text) => send({ err: text }),
    readStdin: () => ask({ ask: 'stdin' }, 'stdin'),
    promptHidden: hello.terminal ? (question) => ask({ ask: 'prompt', question }, 'answer') : undefined,
    progress: (label) => remoteProgress(label, send),
    env,
    cwd: hello.cwd,
  };
  const code = await run(hello.argv, io);
  send({ exit: code });
  socket.end();
}

function remoteProgress(label: string, send: (msg: object) => void): Progress {
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last >= PROGRESS_EVERY_MS || done === total) {
        last = now;
        send({ progress: [label, done, total] });
      }
    },
    stop: () => send({ progressEnd: label }),
  };
}

/**
 * Runs the command line in the server serving `dataDir`, answering its questions from `io`.
 * Undefined when no server serves the folder here (no socket, or nobody listening on it).
 */
export function forwardToServer(dataDir: string, argv: string[], io: CommandIo): Promise<number | undefined> {
  const socketPath = controlSocketPath(dataDir);
  if (!fs.existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let connected = false;
    let exit: number | undefined;
    const bars = new Map<string, Progress>();
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) resolve(undefined);
      else reject(new Error(`the running Carewall's control channel failed: ${err.message}`));
    });
    socket.on('connect', () => {
      connected = true;
      const env: Record<string, string> = {};
      for (const k of FORWARDED_ENV) if (io.env[k] !== undefined) env[k] = io.env[k]!;
      socket.write(JSON.stringify({ argv, cwd: io.cwd, env, terminal: Boolean(io.promptHidden) } satisfies Hello) + '\n');
    });
    const reply = (msg: object) => socket.write(JSON.stringify(msg) + '\n');
    const lines = readline.createInterface({ input: socket, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as {
        out?: string;
        err?: string;
        progress?: [string, number, number];
        progressEnd?: string;
        ask?: string;
        question?: string;
        exit?: number;
      };
      if (msg.out !== undefined) io.writeOut(msg.out);
      if (msg.err !== undefined) io.writeErr(msg.err);
      if (msg.progress) {
        const [label, done, total] = msg.progress;
        if (!bars.has(label)) bars.set(label, io.progress(label));
        bars.get(label)!.update(done, total);
      }
      if (msg.progressEnd !== undefined) {
        bars.get(msg.progressEnd)?.stop();
        bars.delete(msg.progressEnd);
      }
      if (msg.ask === 'stdin')
        io.readStdin().then(
          (stdin) => reply({ stdin }),
          () => socket.end(),
        );
      if (msg.ask === 'prompt' && io.promptHidden)
        io.promptHidden(msg.question ?? '').then(
          (answer) => reply({ answer }),
          () => socket.end(),
        );
      if (msg.exit !== undefined) exit = msg.exit;
    });
    lines.on('close', () => {
      for (const bar of bars.values()) bar.stop();
      if (exit !== undefined) resolve(exit);
      else if (connected) reject(new Error('the running Carewall closed the control channel without an answer'));
    });
  });
}
