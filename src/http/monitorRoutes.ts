/**
 * /api/monitor: the live insider-misuse monitor's alerts and cases, for privacy officers only. A
 * thin shell over monitor/live; like the other privacy-officer queries, every call (allowed or
 * refused) is itself a record in the audit log, so who looked at which case is on the record too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize } from '../access/index.js';
import { auditUser } from '../audit/index.js';
import { type Who } from '../shared/index.js';
import type { TSchema } from '@sinclair/typebox';
import {
  AlertList,
  AlertsQuery,
  AssignBody,
  AssigneeList,
  CaseDetail,
  CaseList,
  CasesQuery,
  CaseStatusBody,
  CaseSummary,
  NewCaseBody,
  NoteBody,
  LearningList,
  WatchCaseBody,
  WatchList,
  type IdParams,
} from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { jsonBody } from './sessionRoutes.js';

export async function registerMonitorRoutes(app: FastifyInstance, cw: Pick<Carewall, 'audit' | 'monitor'>): Promise<void> {
  const monitor = cw.monitor;
  /** Authenticates, authorises (privacy officers: 'access.review') and records the call. */
  const officer = async (req: FastifyRequest, what: string, caseId?: string, type = 'MonitorCase'): Promise<Who> => {
    const who = requireWho(req);
    const user = auditUser(who);
    const resource = caseId ? { type, id: caseId.slice(0, 100) } : undefined;
    try {
      authorize(who, 'access.review');
    } catch (err) {
      await cw.audit.record({
        action: `monitor.${what}`,
        outcome: 'denied',
        user,
        request: who.request,
        resource,
        explanation: { reason: (err as Error).message },
      });
      throw err;
    }
    await cw.audit.record({ action: `monitor.${what}`, outcome: 'success', user, request: who.request, resource });
    return who;
  };

  // Inputs and answers are the schemas' of src/api/monitor.ts. A route with a body authorises (and
  // records) in preValidation, before its body is checked: a caller who may not learns nothing.
  const alerts = { querystring: AlertsQuery, response: { 200: AlertList } };
  app.get<{ Querystring: AlertsQuery; Reply: AlertList }>('/api/monitor/alerts', { schema: alerts }, async (req) => {
    const who = await officer(req, 'alerts');
    return { alerts: await monitor.listAlerts(who, req.query.status ?? 'new') };
  });

  app.get<{ Reply: WatchList }>('/api/monitor/watch', { schema: { response: { 200: WatchList } } }, async (req) => {
    const who = await officer(req, 'watch');
    return { watch: await monitor.listWatch(who) };
  });

  const watchCase = {
    schema: { body: WatchCaseBody, response: { 201: CaseSummary } },
    preValidation: jsonBody((req) => officer(req, 'watch.case', (req.params as IdParams).id, 'MonitorWatchItem')),
  };
  app.post<{ Params: IdParams; Body: WatchCaseBody; Reply: CaseSummary }>('/api/monitor/watch/:id/case', watchCase, async (req, reply) => {
    return reply.status(201).send(await monitor.openCaseFromWatch(requireWho(req), req.params.id, req.body));
  });

  app.get<{ Reply: LearningList }>('/api/monitor/learning', { schema: { response: { 200: LearningList } } }, async (req) => {
    const who = await officer(req, 'learning');
    return monitor.listLearning(who);
  });

  app.post('/api/monitor/scan', async (req) => {
    await officer(req, 'scan');
    return monitor.scanNow();
  });

  const newCase = { schema: { body: NewCaseBody, response: { 201: CaseSummary } }, preValidation: jsonBody((req) => officer(req, 'case.create')) };
  app.post<{ Body: NewCaseBody; Reply: CaseSummary }>('/api/monitor/cases', newCase, async (req, reply) => {
    return reply.status(201).send(await monitor.createCase(requireWho(req), req.body));
  });

  const cases = { querystring: CasesQuery, response: { 200: CaseList } };
  app.get<{ Querystring: CasesQuery; Reply: CaseList }>('/api/monitor/cases', { schema: cases }, async (req) => {
    const who = await officer(req, 'cases');
    return { cases: await monitor.listCases(who, req.query.status ?? 'all') };
  });

  app.get<{ Reply: AssigneeList }>('/api/monitor/assignees', { schema: { response: { 200: AssigneeList } } }, async (req) => {
    const who = await officer(req, 'assignees');
    return { assignees: await monitor.assignees(who) };
  });

  app.get<{ Params: IdParams; Reply: CaseDetail }>('/api/monitor/cases/:id', { schema: { response: { 200: CaseDetail } } }, async (req) => {
    const who = await officer(req, 'case', req.params.id);
    return monitor.caseDetail(who, req.params.id);
  });

  /** A change to a case: a body of `shape`, recorded as monitor.<what> on the case. */
  const change = <S extends TSchema>(what: string, shape: S) => ({
    schema: { body: shape },
    preValidation: jsonBody((req) => officer(req, what, (req.params as IdParams).id)),
  });

  app.post<{ Params: IdParams; Body: AssignBody }>('/api/monitor/cases/:id/assign', change('case.assign', AssignBody), async (req, reply) => {
    await monitor.assign(requireWho(req), req.params.id, req.body);
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: NoteBody }>('/api/monitor/cases/:id/notes', change('case.note', NoteBody), async (req, reply) => {
    await monitor.addNote(requireWho(req), req.params.id, req.body);
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: CaseStatusBody }>('/api/monitor/cases/:id/status', change('case.status', CaseStatusBody), async (req, reply) => {
    await monitor.setStatus(requireWho(req), req.params.id, req.body);
    return reply.status(204).send();
  });
}
