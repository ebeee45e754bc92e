/**
 * `carewall vault serve`: an append-only backup repository over HTTP, for a second machine (in the
 * spirit of restic's rest-server --append-only). It stores new objects and refuses every overwrite
 * and every delete. Objects leave only through a prune request made by one administrator and
 * approved by another; both steps are kept in DIR/prune/ and the vault's log.
 *
 *   PUT  /v1/objects/<name>        writer: 201, or 409 when the name exists
 *   GET  /v1/objects/<name>        writer, admin (HEAD too)
 *   GET  /v1/list/data|snapshots|evidence
 *   DELETE /v1/objects/<name>      403 for everyone
 *   POST /v1/prune-requests        admin: {"objects": [...], "reason"} -> 201 {"id", ...}
 *   GET  /v1/prune-requests        admin
 *   POST /v1/prune-requests/<id>/approve   another admin: deletes the objects -> 200 {"deleted"}
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkObjectName, LocalBackend, ObjectExistsError, ObjectNotFoundError, type Prefix } from '../backup/index.js';
import { findCredential, loadCredentials, type VaultCredential, type VaultRole } from './credentials.js';

export interface PruneRequest {
  id: string;
  objects: string[];
  reason: string;
  requestedBy: string;
  requestedAt: string;
  approvedBy?: string;
  approvedAt?: string;
  deleted?: number;
}

export interface VaultOptions {
  dir: string;
  /** Largest object accepted (a chunk is at most 8 MiB, a manifest grows with the clinic). */
  maxObjectBytes?: number;
  logger?: boolean;
}

export async function buildVault(opts: VaultOptions): Promise<FastifyInstance> {
  const dir = path.resolve(opts.dir);
  const objects = path.join(dir, 'objects');
  const pruneDir = path.join(dir, 'prune');
  for (const d of [objects, pruneDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  for (const sub of ['data', 'snapshots', 'evidence', 'tmp']) fs.mkdirSync(path.join(objects, sub), { recursive: true, mode: 0o700 });
  const store = new LocalBackend(objects);
  if (!loadCredentials(dir).some((c) => c.role === 'writer')) {
    throw new Error(`the vault in ${dir} has no writer credential: add one with 'carewall vault add-credential --dir ${opts.dir} --role writer --name NAME'`);
  }
  const app = Fastify({ logger: opts.logger ? { level: 'info' } : false, bodyLimit: opts.maxObjectBytes ?? 64 * 1024 * 1024 });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const who = (req: FastifyRequest, reply: FastifyReply, roles: VaultRole[]): VaultCredential | undefined => {
    const header = req.headers.authorization;
    // Credentials are re-read on each request: one added or removed takes effect at once.
    const cred = findCredential(loadCredentials(dir), header?.startsWith('Bearer ') ? header.slice(7) : undefined);
    if (!cred) {
      void reply.code(401).send({ error: 'a vault credential is required' });
      return undefined;
    }
    if (!roles.includes(cred.role)) {
      void reply.code(403).send({ error: `a ${cred.role} credential may not do this` });
      return undefined;
    }
    return cred;
  };
  const objectName = (req: FastifyRequest, reply: FastifyReply): string | undefined => {
    const name = (req.params as { '*': string })['*'];
    try {
      return checkObjectName(name);
    } catch {
      void reply.code(400).send({ error: 'not a repository object name' });
      return undefined;
    }
  };

  app.put('/v1/objects/*', async (req, reply) => {
    if (!who(req, reply, ['writer'])) return reply;
    const name = objectName(req, reply);
    if (!name) return reply;
    if (!Buffer.isBuffer(req.body) || req.body.length === 0) return reply.code(400).send({ error: 'send the object as application/octet-stream' });
    try {
      await store.put(name, req.body);
    } catch (err) {
      if (err instanceof ObjectExistsError) return reply.code(409).send({ error: 'an object of that name exists; objects are never replaced' });
      throw err;
    }
    return reply.code(201).send({ stored: name });
  });

  app.get('/v1/objects/*', async (req, reply) => {
    if (!who(req, reply, ['writer', 'admin'])) return reply;
    const name = objectName(req, reply);
    if (!name) return reply;
    try {
      const data = await store.get(name);
      return reply.type('application/octet-stream').send(data);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return reply.code(404).send({ error: 'no such object' });
      throw err;
    }
  });

  app.delete('/v1/objects/*', async (req, reply) => {
    if (!who(req, reply, ['writer', 'admin'])) return reply;
    return reply.code(403).send({ error: 'this vault is append-only: objects are removed only by a prune request approved by a second administrator' });
  });

  app.get('/v1/list/:prefix', async (req, reply) => {
    if (!who(req, reply, ['writer', 'admin'])) return reply;
    const prefix = (req.params as { prefix: string }).prefix;
    if (!['data', 'snapshots', 'evidence'].includes(prefix)) return reply.code(400).send({ error: 'list data, snapshots or evidence' });
    return { names: await store.list(`${prefix}/` as Prefix) };
  });

  const requestFile = (id: string) => path.join(pruneDir, `${id}.json`);
  const readRequest = (id: string): PruneRequest | undefined => {
    if (!/^[0-9a-f-]{36}$/.test(id) || !fs.existsSync(requestFile(id))) return undefined;
    return JSON.parse(fs.readFileSync(requestFile(id), 'utf8')) as PruneRequest;
  };

  app.post('/v1/prune-requests', async (req, reply) => {
    const cred = who(req, reply, ['admin']);
    if (!cred) return reply;
    const body = req.body as { objects?: unknown; reason?: unknown } | undefined;
    const names = Array.isArray(body?.objects) ? body.objects : [];
    const reason = typeof body?.reason === 'string' ? body.reason.trim() : '';
    if (names.length === 0 || names.length > 100_000 || !reason || reason.length > 500)
      return reply.code(400).send({ error: 'give "objects" (a list of object names) and a "reason"' });
    for (const n of names) {
      try {
        checkObjectName(String(n));
      } catch {
        return reply.code(400).send({ error: 'every entry of "objects" must be an object name' });
      }
      if (n === 'config') return reply.code(400).send({ error: "the repository's config is never pruned" });
    }
    const request: PruneRequest = {
      id: crypto.randomUUID(),
      objects: [...new Set(names as string[])],
      reason,
      requestedBy: cred.name,
      requestedAt: new Date().toISOString(),
    };
    fs.writeFileSync(requestFile(request.id), JSON.stringify(request, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    req.log.warn({ prune: request.id, by: cred.name, objects: request.objects.length }, 'prune requested');
    return reply.code(201).send(request);
  });

  app.get('/v1/prune-requests', async (req, reply) => {
    if (!who(req, reply, ['admin'])) return reply;
    const all = fs
      .readdirSync(pruneDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readRequest(f.slice(0, -5))!);
    return { requests: all.filter(Boolean).map((r) => ({ ...r, objects: r.objects.length })) };
  });

  // Approvals are taken one at a time in this process: two approvals of one request cannot both delete.
  let approving = Promise.resolve();
  app.post('/v1/prune-requests/:id/approve', async (req, reply) => {
    const cred = who(req, reply, ['admin']);
    if (!cred) return reply;
    const id = (req.params as { id: string }).id;
    const run = approving.then(async () => {
      const request = readRequest(id);
      if (!request) return { status: 404, body: { error: 'no such prune request' } };
      if (request.approvedBy) return { status: 409, body: { error: 'this request has been approved already' } };
      if (request.requestedBy === cred.name) return { status: 403, body: { error: 'a prune needs a second administrator: the requester cannot approve it' } };
      // Recorded as approved before anything is deleted: a crash half-way is visible, not repeated by someone else.
      const approved: PruneRequest = { ...request, approvedBy: cred.name, approvedAt: new Date().toISOString() };
      fs.writeFileSync(requestFile(id), JSON.stringify(approved, null, 2) + '\n', { mode: 0o600 });
      let deleted = 0;
      for (const name of request.objects) if (await store.remove(name)) deleted++;
      fs.writeFileSync(requestFile(id), JSON.stringify({ ...approved, deleted }, null, 2) + '\n', { mode: 0o600 });
      req.log.warn({ prune: id, requestedBy: request.requestedBy, approvedBy: cred.name, deleted }, 'prune approved and carried out');
      return { status: 200, body: { id, deleted } };
    });
    approving = run.then(
      () => undefined,
      () => undefined,
    );
    const result = await run;
    return reply.code(result.status).send(result.body);
  });

  return app;
}
