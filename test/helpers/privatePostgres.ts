/**
 * A PostgreSQL instance of a test's own, from the distribution's binaries, that the test may stop,
 * restart or crash at will: the shared server on 127.0.0.1:5432 serves other tests meanwhile and
 * must never be touched. Trust authentication on 127.0.0.1 and a socket folder inside its own
 * temporary folder, on a free port. Postgres refuses to run as root (as the tests do here), so its
 * commands run as the `postgres` user then.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PrivatePostgres {
  readonly port: number;
  /** A connection string for `database` on this instance. */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl restart -m fast`: sessions are ended with 57P01, the server is back when this resolves. */
  restartFast(): Promise<void>;
  /** `pg_ctl stop -m immediate`: the server dies as in a crash (recovery runs on the next start). */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The newest installed server's bin folder, or undefined. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** What is needed before starting: the binaries and, as root, a user to run them as; or why not. */
function prerequisites(): { bin: string; owner?: { uid: number; gid: number } } | { unavailable: string } {
  const bin = binDir();
  if (!bin) return { unavailable: 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin' };
  if (process.getuid?.() !== 0) return { bin };
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return { unavailable: 'running as root and there is no postgres user to run the server as' };
  return { bin, owner: { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } };
}

/**
 * Why no instance can be started here, or undefined: known without starting one, so that a test can
 * be declared skipped with this reason while the instance itself is started only when it runs.
 */
export function privatePostgresUnavailable(): string | undefined {
  const found = prerequisites();
  return 'unavailable' in found ? found.unavailable : undefined;
}

/** Starts an instance, or explains why none can be started here (the caller skips with that reason). */
export async function startPrivatePostgres(): Promise<PrivatePostgres | { unavailable: string }> {
  const found = prerequisites();
  if ('unavailable' in found) return found;
  const { bin, owner } = found;
  const asRoot = owner !== undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-pg-'));
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const pgCommand = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]) : run(path.join(bin, cmd), args);
  const port = await freePort();
  // fsync off: the tests crash the server process, never the machine, so the kernel keeps what was written.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const pgCtl = (...args: string[]) => pgCommand('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', ...args]);
  const stopNow = () => {
    const args = ['-D', data, '-m', 'immediate', 'stop'];
    spawnSync(asRoot ? 'runuser' : path.join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args] : args, { stdio: 'ignore' });
  };
  // A test process that dies without its cleanup must not leave a server behind.
  const onExit = () => {
    if (fs.existsSync(path.join(data, 'postmaster.pid'))) stopNow();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pgCommand('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    await pgCtl('-o', options, 'start');
  } catch (err) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-5).join(' | ') : '';
    onExit();
    return { unavailable: `a private PostgreSQL instance could not be started: ${(err as Error).message.split('\n')[0]} ${log}` };
  }
  process.once('exit', onExit);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    async restartFast() {
      await pgCtl('-m', 'fast', '-o', options, 'restart');
    },
    async stopImmediate() {
      await pgCtl('-m', 'immediate', 'stop');
    },
    async start() {
      await pgCtl('-o', options, 'start');
    },
    async close() {
      process.off('exit', onExit);
      onExit();
    },
  };
}
