/**
 * Where a repository's objects live. Every backend is write-once: `put` stores a new object or
 * fails with ObjectExistsError, and no backend here has a way to delete (pruning is the vault
 * server's, behind an administrator's request and a second administrator's approval).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class ObjectExistsError extends Error {}
export class ObjectNotFoundError extends Error {}

export type Prefix = 'data/' | 'snapshots/' | 'evidence/';
const PREFIXES: string[] = ['data/', 'snapshots/', 'evidence/'];

export interface Backend {
  readonly description: string;
  /** Stores a new object; ObjectExistsError when the name is taken (never replaces it). */
  put(name: string, data: Buffer): Promise<void>;
  get(name: string): Promise<Buffer>;
  list(prefix: Prefix): Promise<string[]>;
}

const NAME = /^(config|data\/[0-9a-f]{64}|snapshots\/[0-9A-Za-z-]{1,80}|evidence\/[0-9A-Za-z-]{1,80})$/;

/** Object names are checked wherever they arrive (a vault request, a manifest): nothing else is a path. */
export function checkObjectName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a repository object name: ${JSON.stringify(name.slice(0, 100))}`);
  return name;
}

/**
 * A local or mounted folder. New objects are written to a temporary file, synced, and linked into
 * place: link(2) fails when the name exists, so an object is never replaced, even by a racing
 * writer, and a crash never leaves half an object under its name. Objects are made read-only.
 */
export class LocalBackend implements Backend {
  readonly description: string;
  constructor(readonly dir: string) {
    this.description = `folder ${dir}`;
  }

  static create(dir: string): LocalBackend {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (fs.readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: a new repository needs an empty folder`);
    for (const sub of ['data', 'snapshots', 'evidence', 'tmp']) fs.mkdirSync(path.join(dir, sub), { mode: 0o700 });
    return new LocalBackend(dir);
  }

  private file(name: string): string {
    checkObjectName(name);
    if (name.startsWith('data/')) return path.join(this.dir, 'data', name.slice(5, 7), name.slice(5));
    return path.join(this.dir, name);
  }

  async put(name: string, data: Buffer): Promise<void> {
    const target = this.file(name);
    await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, 'tmp', `${crypto.randomUUID()}`);
    await fs.promises.mkdir(path.dirname(tmp), { recursive: true, mode: 0o700 });
    const fh = await fs.promises.open(tmp, 'wx', 0o400);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fs.promises.link(tmp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ObjectExistsError(`${name} already exists`);
      throw err;
    } finally {
      await fs.promises.unlink(tmp).catch(() => undefined);
    }
  }

  async get(name: string): Promise<Buffer> {
    try {
      return await fs.promises.readFile(this.file(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(`${name} is not in the repository`);
      throw err;
    }
  }

  async list(prefix: Prefix): Promise<string[]> {
    if (!PREFIXES.includes(prefix)) throw new Error(`not a listing of the repository: ${JSON.stringify(prefix)}`);
    const base = path.join(this.dir, prefix.slice(0, -1));
    if (!fs.existsSync(base)) return [];
    if (prefix !== 'data/')
      return (await fs.promises.readdir(base))
        .map((f) => prefix + f)
        .filter((n) => NAME.test(n))
        .sort();
    const out: string[] = [];
    for (const fan of await fs.promises.readdir(base)) {
      for (const f of await fs.promises.readdir(path.join(base, fan))) if (NAME.test(prefix + f)) out.push(prefix + f);
    }
    return out.sort();
  }

  /** Only the vault server's prune (approved by two administrators) calls this. */
  async remove(name: string): Promise<boolean> {
    try {
      await fs.promises.unlink(this.file(name));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

/** A `carewall vault serve` repository over HTTP(S), with a writer's (or reader's) bearer token. */
export class HttpBackend implements Backend {
  readonly description: string;
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {
    this.description = `vault ${base}`;
  }

  private url(p: string): string {
    return `${this.base.replace(/\/$/, '')}/v1/${p}`;
  }

  private async request(method: string, p: string, body?: Buffer): Promise<Response> {
    const res = await fetch(this.url(p), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/octet-stream' } : {}) },
      body: body ? new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength) : undefined,
      signal: AbortSignal.timeout(120_000),
    });
    return res;
  }

  async put(name: string, data: Buffer): Promise<void> {
    checkObjectName(name);
    const res = await this.request('PUT', `objects/${name}`, data);
    if (res.status === 409) throw new ObjectExistsError(`${name} already exists`);
    if (res.status !== 201) throw new Error(`vault refused ${name}: ${res.status} ${await errorText(res)}`);
  }

  async get(name: string): Promise<Buffer> {
    checkObjectName(name);
    const res = await this.request('GET', `objects/${name}`);
    if (res.status === 404) throw new ObjectNotFoundError(`${name} is not in the repository`);
    if (res.status !== 200) throw new Error(`vault: reading ${name}: ${res.status} ${await errorText(res)}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async list(prefix: Prefix): Promise<string[]> {
    const res = await this.request('GET', `list/${prefix.slice(0, -1)}`);
    if (res.status !== 200) throw new Error(`vault: listing ${prefix}: ${res.status} ${await errorText(res)}`);
    return ((await res.json()) as { names: string[] }).names;
  }
}

async function errorText(res: Response): Promise<string> {
  try {
    return ((await res.json()) as { error?: string }).error ?? '';
  } catch {
    return '';
  }
}
