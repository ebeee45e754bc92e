/**
 * The director over HTTP (docs/director.md). Each device's metadata, without login: a device
 * trusts the signatures, not the network (`/updates/director/{device id}/metadata/...`, the files
 * a tuf-js Updater asks for with consistent snapshots). Rollouts, for the class's engineers.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ReasonBody, ReleaseIdParams, Rollout, RolloutBody, RolloutList } from '../api/index.js';
import { DirectorRefused } from '../director/index.js';
import type { Carewall } from '../runtime.js';
import { FhirError } from '../shared/index.js';
import { requireWho } from './server.js';

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VERSIONED = /^([1-9][0-9]{0,9})\.(root|snapshot|targets)\.json$/;
const READERS = ['biomedical-engineer', 'security-admin', 'admin', 'privacy-officer'];

export async function registerDirectorRoutes(app: FastifyInstance, cw: Pick<Carewall, 'director'>): Promise<void> {
  const notFound = (reply: FastifyReply) => reply.status(404).type('application/json').send({ error: 'not in the director repository' });
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      throw err instanceof DirectorRefused ? new FhirError(err.status, err.status === 403 ? 'forbidden' : 'invalid', err.message) : err;
    }
  };

  app.get<{ Params: { id: string; file: string } }>('/updates/director/:id/metadata/:file', async (req, reply) => {
    const { id, file } = req.params;
    if (!DEVICE_ID.test(id)) return notFound(reply);
    if (file === 'timestamp.json') {
      const body = await cw.director.file(id, 'timestamp');
      return body ? reply.type('application/json').header('cache-control', 'no-cache').send(body) : notFound(reply);
    }
    const m = VERSIONED.exec(file);
    if (!m || Number(m[1]) > 2 ** 31 - 1) return notFound(reply);
    const body = await cw.director.file(id, m[2] as 'root' | 'snapshot' | 'targets', Number(m[1]));
    return body ? reply.type('application/json').header('cache-control', 'no-cache').send(body) : notFound(reply);
  });

  app.get<{ Reply: RolloutList }>('/updates/rollouts', { schema: { response: { 200: RolloutList } } }, async (req) => {
    const who = requireWho(req);
    if (!who.roles.some((r) => READERS.includes(r))) throw new FhirError(403, 'forbidden', 'rollouts are shown to engineers and officers');
    return cw.director.rollouts.list();
  });

  app.post<{ Body: RolloutBody; Reply: Rollout }>('/updates/rollouts', { schema: { body: RolloutBody, response: { 201: Rollout } } }, async (req, reply) =>
    reply.status(201).send(await run(() => cw.director.rollouts.create(requireWho(req), req.body))),
  );

  app.get<{ Params: ReleaseIdParams; Reply: Rollout }>(
    '/updates/rollouts/:id',
    { schema: { params: ReleaseIdParams, response: { 200: Rollout } } },
    async (req) => {
      const who = requireWho(req);
      if (!who.roles.some((r) => READERS.includes(r))) throw new FhirError(403, 'forbidden', 'rollouts are shown to engineers and officers');
      return run(() => cw.director.rollouts.view(req.params.id));
    },
  );

  app.post<{ Params: ReleaseIdParams; Reply: Rollout }>(
    '/updates/rollouts/:id/advance',
    { schema: { params: ReleaseIdParams, response: { 200: Rollout } } },
    async (req) => run(() => cw.director.rollouts.advance(requireWho(req), req.params.id)),
  );

  for (const action of ['halt', 'resume'] as const)
    app.post<{ Params: ReleaseIdParams; Body: ReasonBody; Reply: Rollout }>(
      `/updates/rollouts/:id/${action}`,
      { schema: { params: ReleaseIdParams, body: ReasonBody, response: { 200: Rollout } } },
      async (req) => run(() => cw.director.rollouts[action](requireWho(req), req.params.id, req.body.reason)),
    );
}
