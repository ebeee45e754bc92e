/**
 * Staff awareness over HTTP (docs/awareness.md). Two kinds of route:
 *  - /api/awareness/...: the console's and the report button's, for signed-in staff;
 *  - /aw/...: what a simulation's recipient's browser reaches through the message's token (pixel,
 *    link, the page's script, the form, the lesson and its quiz), without signing in. The form's
 *    route never reads a body: a body from a stranger is refused before it is read (admission.ts),
 *    and the page's fields have no names, so a browser sends none.
 * Thin: the awareness service decides, records and audits.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AwarenessCampaigns,
  AwarenessDepartments,
  AwarenessGroup,
  AwarenessGroups,
  AwarenessLessons,
  AwarenessPeople,
  AwarenessSynced,
  AwarenessTemplates,
  AwarenessMailboxHits,
  AwarenessMine,
  AwarenessPeopleResults,
  AwarenessQueue,
  AwarenessReportAnswer,
  AwarenessResults,
  AwarenessTrend,
} from '../api/index.js';
import type { Page } from '../awareness/index.js';
import type { Carewall } from '../runtime.js';
import { FhirError } from '../shared/index.js';
import { requireWho } from './server.js';

const CampaignBody = Type.Object(
  {
    name: Type.String({ maxLength: 200 }),
    group: Type.String({ maxLength: 64 }),
    templates: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
    window: Type.Object(
      {
        start: Type.String({ maxLength: 40 }),
        end: Type.String({ maxLength: 40 }),
        from: Type.Optional(Type.String({ maxLength: 5 })),
        to: Type.Optional(Type.String({ maxLength: 5 })),
        days: Type.Optional(Type.Array(Type.Integer(), { maxItems: 7 })),
      },
      { additionalProperties: false },
    ),
    landingPage: Type.Optional(Type.Boolean()),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const GroupBody = Type.Object(
  {
    name: Type.String({ maxLength: 200 }),
    departments: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
    emails: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 5000 })),
  },
  { additionalProperties: false },
);
const DecisionBody = Type.Object(
  { outcome: Type.Union([Type.Literal('phishing'), Type.Literal('harmless'), Type.Literal('spam')]), note: Type.String({ maxLength: 2000 }) },
  { additionalProperties: false },
);
const QueueQuery = Type.Object(
  {
    sender: Type.Optional(Type.String({ maxLength: 200 })),
    subject: Type.Optional(Type.String({ maxLength: 200 })),
    link: Type.Optional(Type.String({ maxLength: 500 })),
    open: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);

/** A transparent 1×1 GIF: the tracked pixel. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export async function registerAwarenessRoutes(app: FastifyInstance, cw: Pick<Carewall, 'awareness'>): Promise<void> {
  const aw = cw.awareness;

  // The report button sends the message itself; so does any tool that can post a file.
  app.addContentTypeParser('message/rfc822', { parseAs: 'buffer', bodyLimit: 25 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.post<{ Reply: AwarenessReportAnswer }>(
    '/api/awareness/reports',
    { bodyLimit: 25 * 1024 * 1024, schema: { response: { 201: AwarenessReportAnswer } } },
    async (req, reply) => {
      const who = requireWho(req);
      if (!Buffer.isBuffer(req.body)) throw new FhirError(415, 'not-supported', 'send the reported message as message/rfc822');
      return reply.status(201).send(await aw.report(who, req.body));
    },
  );
  app.get('/api/awareness/reports/mine', async (req) => aw.myReports(requireWho(req)));
  app.get<{ Querystring: Static<typeof QueueQuery>; Reply: AwarenessQueue }>(
    '/api/awareness/reports',
    { schema: { querystring: QueueQuery, response: { 200: AwarenessQueue } } },
    async (req) => aw.queue(requireWho(req), { ...req.query, open: req.query.open === 'true' }),
  );
  // Every staff mailbox searched for a message (security admin): where it still sits, as a list.
  app.get<{ Querystring: Static<typeof QueueQuery>; Reply: AwarenessMailboxHits }>(
    '/api/awareness/mailboxes/search',
    { schema: { querystring: QueueQuery, response: { 200: AwarenessMailboxHits } } },
    async (req) => aw.searchMailboxes(requireWho(req), { sender: req.query.sender, subject: req.query.subject, link: req.query.link }),
  );
  app.post<{ Params: { id: string }; Body: Static<typeof DecisionBody> }>(
    '/api/awareness/reports/:id/decision',
    { schema: { body: DecisionBody } },
    async (req) => ({
      decided: await aw.decide(requireWho(req), req.params.id, req.body.outcome, req.body.note),
    }),
  );

  app.get<{ Reply: AwarenessPeople }>('/api/awareness/people', { schema: { response: { 200: AwarenessPeople } } }, async (req) => aw.people(requireWho(req)));
  app.post<{ Reply: AwarenessSynced }>('/api/awareness/people/sync', { schema: { response: { 200: AwarenessSynced } } }, async (req) =>
    aw.syncFromAccounts(requireWho(req)),
  );
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post<{ Reply: AwarenessSynced }>('/api/awareness/people/import', { schema: { response: { 200: AwarenessSynced } } }, async (req) => {
    if (typeof req.body !== 'string') throw new FhirError(415, 'not-supported', 'send the staff file as text/csv');
    return aw.importStaffCsv(requireWho(req), req.body);
  });
  app.get<{ Reply: AwarenessGroups }>('/api/awareness/groups', { schema: { response: { 200: AwarenessGroups } } }, async (req) => aw.groups(requireWho(req)));
  app.post<{ Body: Static<typeof GroupBody> }>(
    '/api/awareness/groups',
    { schema: { body: GroupBody, response: { 201: AwarenessGroup } } },
    async (req, reply) => reply.status(201).send(await aw.createGroup(requireWho(req), req.body)),
  );
  app.get<{ Reply: AwarenessTemplates }>('/api/awareness/templates', { schema: { response: { 200: AwarenessTemplates } } }, async (req) =>
    aw.templates(requireWho(req)),
  );
  app.get('/api/awareness/pages', async (req) => aw.pages(requireWho(req)));
  app.get<{ Reply: AwarenessLessons }>('/api/awareness/lessons', { schema: { response: { 200: AwarenessLessons } } }, async (req) => {
    requireWho(req);
    return [...aw.lessons()];
  });
  app.post<{ Body: { template?: unknown; page?: unknown; id?: string } }>('/api/awareness/templates/gophish', async (req, reply) => {
    const body = req.body as { template?: unknown; page?: unknown; id?: unknown } | undefined;
    if (!body || typeof body !== 'object' || (body.id !== undefined && typeof body.id !== 'string'))
      throw new FhirError(400, 'invalid', 'send {"template": …, "page": …, "id": …}');
    return reply.status(201).send(await aw.importGophish(requireWho(req), body as { template?: unknown; page?: unknown; id?: string }));
  });

  app.get<{ Reply: AwarenessCampaigns }>('/api/awareness/campaigns', { schema: { response: { 200: AwarenessCampaigns } } }, async (req) =>
    aw.campaigns(requireWho(req)),
  );
  app.post<{ Body: Static<typeof CampaignBody> }>('/api/awareness/campaigns', { schema: { body: CampaignBody } }, async (req, reply) =>
    reply.status(201).send(await aw.createCampaign(requireWho(req), req.body)),
  );
  app.post<{ Params: { id: string } }>('/api/awareness/campaigns/:id/cancel', async (req, reply) => {
    await aw.cancelCampaign(requireWho(req), req.params.id);
    return reply.status(204).send();
  });
  app.get<{ Params: { id: string }; Reply: AwarenessResults }>(
    '/api/awareness/campaigns/:id/results',
    { schema: { response: { 200: AwarenessResults } } },
    async (req) => aw.results(requireWho(req), req.params.id),
  );
  app.get<{ Params: { id: string }; Reply: AwarenessDepartments }>(
    '/api/awareness/campaigns/:id/departments',
    { schema: { response: { 200: AwarenessDepartments } } },
    async (req) => aw.departments(requireWho(req), req.params.id),
  );
  app.get<{ Params: { id: string }; Reply: AwarenessPeopleResults }>(
    '/api/awareness/campaigns/:id/people',
    { schema: { response: { 200: AwarenessPeopleResults } } },
    async (req) => aw.personResults(requireWho(req), req.params.id),
  );
  app.get<{ Params: { id: string }; Querystring: { by?: string } }>('/api/awareness/campaigns/:id/export.csv', async (req, reply) => {
    const by = req.query.by === 'person' ? 'person' : 'department';
    const csv = await aw.exportCsv(requireWho(req), req.params.id, by);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="campaign-${by}.csv"`).send(csv);
  });
  app.get<{ Reply: AwarenessTrend }>('/api/awareness/trend', { schema: { response: { 200: AwarenessTrend } } }, async (req) => aw.trend(requireWho(req)));
  app.get<{ Reply: AwarenessDepartments }>('/api/awareness/departments', { schema: { response: { 200: AwarenessDepartments } } }, async (req) =>
    aw.departments(requireWho(req)),
  );
  app.get<{ Reply: AwarenessMine }>('/api/awareness/me', { schema: { response: { 200: AwarenessMine } } }, async (req) => aw.mine(requireWho(req)));

  // What a simulation's recipient's browser reaches.
  const visit = (req: FastifyRequest) => ({ ip: req.ip, ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}), at: new Date() });
  const sendPage = (reply: FastifyReply, page: Page, status = 200) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', page.csp)
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .send(page.html);

  app.get<{ Params: { token: string } }>('/aw/o/:token', async (req, reply) => {
    await aw.tracking.opened(req.params.token, visit(req));
    return reply.type('image/gif').header('cache-control', 'no-store').send(PIXEL);
  });
  app.get<{ Params: { token: string } }>('/aw/c/:token', async (req, reply) => sendPage(reply, await aw.tracking.clicked(req.params.token, visit(req))));
  app.post<{ Params: { token: string }; Querystring: { c?: string } }>('/aw/b/:token', async (req, reply) => {
    await aw.tracking.beacon(req.params.token, Number(req.query.c), visit(req));
    return reply.status(204).send();
  });
  app.post<{ Params: { token: string } }>('/aw/s/:token', async (req, reply) => {
    const next = await aw.tracking.submitted(req.params.token, visit(req));
    return next ? reply.redirect(next, 303) : sendPage(reply, await aw.tracking.lesson(req.params.token, undefined), 404);
  });
  app.get<{ Params: { token: string }; Querystring: { lesson?: string } }>('/aw/l/:token', async (req, reply) =>
    sendPage(reply, await aw.tracking.lesson(req.params.token, req.query.lesson)),
  );
  app.post<{ Params: { token: string }; Querystring: { lesson?: string } }>('/aw/q/:token', async (req, reply) => {
    const answers = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    return sendPage(reply, await aw.tracking.answered(req.params.token, req.query.lesson, answers, new Date()));
  });
}
