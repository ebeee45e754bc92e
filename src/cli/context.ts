/** What every command is given: its surroundings (io) and the way to its installation. */
import type { Carewall } from '../runtime.js';
import type { CommandIo } from './io.js';

export interface CommandContext {
  io: CommandIo;
  /**
   * Runs `fn` with the installation in `dataDir` open, and closes it after. Inside a running server
   * it is the server's own installation, left open.
   */
  withCarewall<T>(dataDir: string, fn: (cw: Carewall) => Promise<T>): Promise<T>;
  /** The command failed without an error of its own to show (a verification that did not hold); exit code 1 unless given. */
  fail(code?: number): void;
  /**
   * Wraps the action of a command that works on a data folder (--data-dir): when a server runs on
   * that folder, the server runs the command (src/cli/control.ts); otherwise it runs here.
   */
  onDataFolder<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void>;
  /** Set when the command runs inside the server serving its data folder. */
  insideServer: boolean;
}

/** The line every data-folder command's --help ends with. */
export const WHILE_SERVING =
  'Works while `carewall start` serves the same data folder: the running server then runs the command (through control.sock in the data folder).';
