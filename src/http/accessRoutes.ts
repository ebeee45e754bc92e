/**
 * /api/break-glass, /api/investigations, /api/access: a thin shell over access/grants. Every route
 * authenticates first; the grants service decides who may do what.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize } from '../access/index.js';
import { FhirError } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { jsonObjectBody } from './sessionRoutes.js';

type Status = 'unreviewed' | 'reviewed' | 'all';

export async function registerAccessRoutes(app: FastifyInstance, cw: Pick<Carewall, 'grants' | 'identity'>): Promise<void> {
  const grants = cw.grants;

  app.post('/api/break-glass', async (req, reply) => {
    const who = requireWho(req);
    const grant = await grants.breakGlass(who, jsonObjectBody(req));
    return reply.status(201).send(grant);
  });
  app.get('/api/break-glass', async (req) => ({ grants: await grants.list(requireWho(req), 'break-glass', statusOf(req)) }));
  app.post<{ Params: { id: string } }>('/api/break-glass/:id/review', async (req, reply) => {
    await grants.reviewGrant(requireWho(req), 'break-glass', req.params.id, jsonObjectBody(req));
    return reply.status(204).send();
  });

  app.post('/api/investigations', async (req, reply) => {
    const who = requireWho(req);
    const grant = await grants.investigate(who, jsonObjectBody(req));
    return reply.status(201).send(grant);
  });
  app.get('/api/investigations', async (req) => ({ grants: await grants.list(requireWho(req), 'investigation', statusOf(req)) }));
  app.post<{ Params: { id: string } }>('/api/investigations/:id/review', async (req, reply) => {
    await grants.reviewGrant(requireWho(req), 'investigation', req.params.id, jsonObjectBody(req));
    return reply.status(204).send();
  });

  app.get('/api/access/flags', async (req) => ({ uses: await grants.listFlagged(requireWho(req), statusOf(req)) }));
  app.post<{ Params: { id: string } }>('/api/access/flags/:id/review', async (req, reply) => {
    await grants.reviewFlagged(requireWho(req), req.params.id, jsonObjectBody(req));
    return reply.status(204).send();
  });

  app.get('/api/notifications', async (req) => ({ notifications: await grants.notifications(requireWho(req)) }));

  app.get<{ Querystring: { user?: string; patient?: string } }>('/api/access/explain', async (req) => {
    const who = requireWho(req);
    authorize(who, 'access.explain');
    const { user, patient } = req.query;
    if (typeof user !== 'string' || typeof patient !== 'string') throw new FhirError(400, 'required', 'user and patient are required');
    const subject = await cw.identity.describeAccount(user);
    if (!subject) throw new FhirError(404, 'not-found', 'no such user');
    return grants.explain(who, subject, patient.replace(/^Patient\//, ''));
  });
}

function statusOf(req: FastifyRequest): Status {
  const s = (req.query as { status?: string }).status ?? 'unreviewed';
  if (s !== 'unreviewed' && s !== 'reviewed' && s !== 'all') throw new FhirError(400, 'invalid', 'status must be unreviewed, reviewed or all');
  return s;
}
