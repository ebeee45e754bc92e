/**
 * A long-running command (the server, a vault, a guard watch) stops on Ctrl-C or on the service
 * manager's SIGTERM: it closes what it holds (open files, the database, listening sockets) and exits.
 */
export function exitOnSignal(close: () => Promise<unknown>): void {
  const stop = () => void close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
