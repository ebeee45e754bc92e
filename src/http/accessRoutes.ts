/**
 * /api/break-glass, /api/investigations, /api/access: a thin shell over access/grants. Every route
 * authenticates first; the grants service decides who may do what.
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../access/index.js';
import { FhirError } from '../shared/index.js';
import {
  Explanation,
  ExplainQuery,
  GrantBody,
  GrantList,
  GrantOpened,
  IdParams,
  NotificationList,
  NotificationsRead,
  ReviewBody,
  ReviewStatusQuery,
} from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { withNames } from './grantNames.js';
import { jsonBody } from './sessionRoutes.js';

export async function registerAccessRoutes(app: FastifyInstance, cw: Pick<Carewall, 'grants' | 'notices' | 'identity' | 'fhir'>): Promise<void> {
  const grants = cw.grants;

  // Inputs and answers are the schemas' of src/api/access.ts; what the words mean (reason codes,
  // decisions, lengths) is the grants service's to check.
  type Open = { Body: GrantBody; Reply: GrantOpened };
  type List = { Querystring: ReviewStatusQuery; Reply: GrantList };
  type Review = { Params: IdParams; Body: ReviewBody };
  const open = { schema: { body: GrantBody, response: { 201: GrantOpened } }, preValidation: jsonBody() };
  const list = { schema: { querystring: ReviewStatusQuery, response: { 200: GrantList } } };
  const review = { schema: { params: IdParams, body: ReviewBody }, preValidation: jsonBody() };

  app.post<Open>('/api/break-glass', open, async (req, reply) => reply.status(201).send(await grants.breakGlass(requireWho(req), req.body)));
  app.get<List>('/api/break-glass', list, async (req) => {
    const who = requireWho(req);
    return { grants: await withNames(who, await grants.list(who, 'break-glass', req.query.status ?? 'unreviewed'), cw) };
  });
  app.post<Review>('/api/break-glass/:id/review', review, async (req, reply) => {
    await grants.reviewGrant(requireWho(req), 'break-glass', req.params.id, req.body);
    return reply.status(204).send();
  });

  app.post<Open>('/api/investigations', open, async (req, reply) => reply.status(201).send(await grants.investigate(requireWho(req), req.body)));
  app.get<List>('/api/investigations', list, async (req) => {
    const who = requireWho(req);
    return { grants: await withNames(who, await grants.list(who, 'investigation', req.query.status ?? 'unreviewed'), cw) };
  });
  app.post<Review>('/api/investigations/:id/review', review, async (req, reply) => {
    await grants.reviewGrant(requireWho(req), 'investigation', req.params.id, req.body);
    return reply.status(204).send();
  });

  app.get<{ Querystring: ReviewStatusQuery }>('/api/access/flags', { schema: { querystring: ReviewStatusQuery } }, async (req) => ({
    uses: await grants.listFlagged(requireWho(req), req.query.status ?? 'unreviewed'),
  }));
  app.post<Review>('/api/access/flags/:id/review', review, async (req, reply) => {
    await grants.reviewFlagged(requireWho(req), req.params.id, req.body);
    return reply.status(204).send();
  });

  app.get<{ Reply: NotificationList }>('/api/notifications', { schema: { response: { 200: NotificationList } } }, async (req) =>
    cw.notices.forReader(requireWho(req)),
  );
  // Authorised before the body is read: a caller who may not learns nothing from its checks.
  const markRead = {
    schema: { body: NotificationsRead },
    preValidation: jsonBody((req) => authorize(requireWho(req), 'access.review')),
  };
  app.post<{ Body: NotificationsRead }>('/api/notifications/read', markRead, async (req, reply) => {
    await cw.notices.markRead(requireWho(req), req.body.upTo);
    return reply.status(204).send();
  });

  const explain = { querystring: ExplainQuery, response: { 200: Explanation } };
  app.get<{ Querystring: ExplainQuery; Reply: Explanation }>('/api/access/explain', { schema: explain }, async (req) => {
    const who = requireWho(req);
    authorize(who, 'access.explain');
    const subject = await cw.identity.describeAccount(req.query.user);
    if (!subject) throw new FhirError(404, 'not-found', 'no such user');
    return grants.explain(who, subject, req.query.patient.replace(/^Patient\//, ''));
  });
}
