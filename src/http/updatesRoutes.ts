/**
 * /updates: the TUF image repository, read-only and without login. Devices trust the signatures in
 * what they fetch, not the network or this server, so anyone may read it (docs/updates.md).
 * File names are what an unmodified TUF client asks for with consistent snapshots:
 * `<version>.<role>.json`, `timestamp.json`, and `<sha256>.<target path>`.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Carewall } from '../runtime.js';
import { ManifestRefused } from '../updates/index.js';
import { requestDetails } from './server.js';

const VERSIONED = /^([1-9][0-9]{0,9})\.([a-z0-9-]{1,64})\.json$/;
const TARGET = /^([0-9a-f]{64})\.(.+)$/;

export async function registerUpdatesRoutes(app: FastifyInstance, cw: Pick<Carewall, 'updates'>): Promise<void> {
  const notFound = (reply: FastifyReply) => reply.status(404).type('application/json').send({ error: 'not in the update repository' });

  app.get<{ Params: { file: string } }>('/updates/metadata/:file', async (req, reply) => {
    const { file } = req.params;
    if (file === 'timestamp.json') {
      const body = await cw.updates.timestamp();
      // The one file that changes under the same name: caches must ask again every time.
      return body ? reply.type('application/json').header('cache-control', 'no-cache').send(body) : notFound(reply);
    }
    const m = VERSIONED.exec(file);
    const version = m ? Number(m[1]) : 0;
    if (!m || m[2] === 'timestamp' || version > 2 ** 31 - 1) return notFound(reply);
    const body = await cw.updates.metadata(m[2], version);
    return body ? reply.type('application/json').header('cache-control', 'public, max-age=31536000, immutable').send(body) : notFound(reply);
  });

  app.get<{ Params: { file: string } }>('/updates/targets/:file', async (req, reply) => {
    const m = TARGET.exec(req.params.file);
    const blob = m && (await cw.updates.target(m[2], m[1]));
    if (!blob) return notFound(reply);
    return reply
      .type('application/octet-stream')
      .header('content-length', String(blob.length))
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(Readable.from(blob.chunks));
  });

  // A device's report of what it runs. No login: the device signs it with its own registered key
  // (admission.ts lets a stranger send this one small body, like a sign-in).
  app.post<{ Params: { id: string } }>('/updates/devices/:id/manifest', async (req, reply) => {
    try {
      const r = await cw.updates.devices.receive(req.params.id, req.body, requestDetails(req));
      return reply.status(201).send({ accepted: true, knownImage: r.knownImage });
    } catch (err) {
      if (err instanceof ManifestRefused) return reply.status(err.status).send({ error: err.message });
      throw err;
    }
  });
}
