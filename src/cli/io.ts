/**
 * Everything a command does with its surroundings: its output, its input, the environment and the
 * folder it was started in. A command never touches `process` itself, so the same command runs in
 * the `carewall` process, inside a running server on behalf of a `carewall` started next to it
 * (src/cli/control.ts), and inside a test.
 */
import path from 'node:path';
import { progress as terminalProgress, type Progress } from './progress.js';

export type { Progress };

export interface CommandIo {
  /** One line on standard output. */
  out(text: string): void;
  /** One line on standard error. */
  err(text: string): void;
  /** Text as it is (commander's help and errors). */
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** All of standard input (for --password-stdin and the like). */
  readStdin(): Promise<string>;
  /** A secret typed at a terminal without echo; undefined when there is no terminal. */
  promptHidden?: (question: string) => Promise<string>;
  /** A progress bar on a terminal, a line every few seconds otherwise. */
  progress(label: string): Progress;
  /** The environment the command was started in (DATABASE_URL, CAREWALL_VAULT_TOKEN, LOG_LEVEL). */
  env: NodeJS.ProcessEnv;
  /** The folder the command was started in: relative file names are relative to it. */
  cwd: string;
}

/** A path given on the command line, as the user meant it (relative to where they typed it). */
export function resolvePath(io: Pick<CommandIo, 'cwd'>, file: string): string {
  return path.resolve(io.cwd, file);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The `carewall` process's own terminal. */
export function processIo(): CommandIo {
  return {
    out: (text) => process.stdout.write(text + '\n'),
    err: (text) => process.stderr.write(text + '\n'),
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
    promptHidden: process.stdin.isTTY ? promptHidden : undefined,
    progress: (label) => terminalProgress(label),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Reads a line from the terminal in raw mode so that the typed characters are not echoed. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
