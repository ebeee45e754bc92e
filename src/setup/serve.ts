/** Starts the HTTP server for an open installation and stops it cleanly on SIGINT/SIGTERM. */
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../http/index.js';
import { exitOnSignal } from '../util/index.js';
import type { Carewall } from '../runtime.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export class DemoExposureError extends Error {}

export function assertLoopback(host: string): void {
  if (!LOOPBACK.has(host))
    throw new DemoExposureError(`demo mode refuses to listen on ${host}: demo logins are public, use a loopback address such as 127.0.0.1`);
}

export interface ServeOptions {
  /** Starts the local control channel (the CLI's way in while the server holds the data folder); returns its stop. */
  startControl?: (cw: Carewall) => Promise<() => Promise<void>>;
}

export async function serve(cw: Carewall, host: string, port: number, options: ServeOptions = {}): Promise<{ app: FastifyInstance; url: string }> {
  // Demo installations have published passwords: they must never be reachable from the network.
  if (cw.settings.demo) assertLoopback(host);
  const app = await buildServer(cw);
  await app.listen({ host, port });
  const stopControl = (await options.startControl?.(cw)) ?? (async () => {});
  // The live misuse monitor (carewall.json monitor.intervalSeconds, 60 by default; 0 off).
  cw.monitor.start();
  cw.awareness.start();
  cw.posture.start();
  // The update repository's timestamp lives a day: the server re-signs it (and the snapshot) in time.
  cw.updates.start();
  // The ransomware guard on the file shares (carewall.json backup.shares; guard.enabled false turns
  // it off). A share that cannot be watched (not mounted yet) must not keep the records offline:
  // the error is logged, and GET /api/guard shows that the guard is not watching.
  await cw.guard.start().catch((err: Error) => cw.log.error({ err: err.message }, 'ransomware guard not started'));
  // Scheduled backups (carewall.json backup.everyHours, once `carewall backup init` has run): after
  // the guard has planted its decoys, so that the first run already knows to leave them out.
  cw.backups.startSchedule();
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  // A demo is reached on its loopback address; a real installation names its address at init.
  if (cw.settings.demo && !cw.settings.publicUrl) cw.settings.publicUrl = `http://${shown}:${actualPort}`;
  if (!cw.settings.publicUrl) cw.log.warn('publicUrl is not set (carewall.json): system clients cannot get tokens until it is');
  exitOnSignal(async () => {
    await stopControl();
    await app.close();
    await cw.close();
  });
  return { app, url: `http://${shown}:${actualPort}` };
}
