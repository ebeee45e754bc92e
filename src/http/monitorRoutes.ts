/**
 * /api/monitor: the live insider-misuse monitor's alerts and cases, for privacy officers only. A
 * thin shell over monitor/live; like the other privacy-officer queries, every call (allowed or
 * refused) is itself a record in the audit log, so who looked at which case is on the record too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize } from '../access/index.js';
import { type Who } from '../shared/index.js';
import { FhirError } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { jsonObjectBody } from './sessionRoutes.js';

export async function registerMonitorRoutes(app: FastifyInstance, cw: Pick<Carewall, 'audit' | 'monitor'>): Promise<void> {
  const monitor = cw.monitor;
  /** Authenticates, authorises (privacy officers: 'access.review') and records the call. */
  const officer = async (req: FastifyRequest, what: string, caseId?: string): Promise<Who> => {
    const who = requireWho(req);
    const user = { account: who.accountId, username: who.username, practitioner: who.practitioner, roles: [...who.roles] };
    const resource = caseId ? { type: 'MonitorCase', id: caseId.slice(0, 100) } : undefined;
    try {
      authorize(who, 'access.review');
    } catch (err) {
      await cw.audit.record({ action: `monitor.${what}`, outcome: 'denied', user, resource, explanation: { reason: (err as Error).message } });
      throw err;
    }
    await cw.audit.record({ action: `monitor.${what}`, outcome: 'success', user, resource });
    return who;
  };

  app.get('/api/monitor/alerts', async (req) => {
    const who = await officer(req, 'alerts');
    return { alerts: await monitor.listAlerts(who, oneOf(req, 'new', ['new', 'cased', 'all'] as const)) };
  });

  app.post('/api/monitor/scan', async (req) => {
    await officer(req, 'scan');
    return monitor.scanNow();
  });

  app.post('/api/monitor/cases', async (req, reply) => {
    const who = await officer(req, 'case.create');
    return reply.status(201).send(await monitor.createCase(who, jsonObjectBody(req)));
  });

  app.get('/api/monitor/cases', async (req) => {
    const who = await officer(req, 'cases');
    return { cases: await monitor.listCases(who, oneOf(req, 'all', ['open', 'investigating', 'closed', 'all'] as const)) };
  });

  app.get<{ Params: { id: string } }>('/api/monitor/cases/:id', async (req) => {
    const who = await officer(req, 'case', req.params.id);
    return monitor.caseDetail(who, req.params.id);
  });

  app.post<{ Params: { id: string } }>('/api/monitor/cases/:id/assign', async (req, reply) => {
    const who = await officer(req, 'case.assign', req.params.id);
    await monitor.assign(who, req.params.id, jsonObjectBody(req));
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/monitor/cases/:id/notes', async (req, reply) => {
    const who = await officer(req, 'case.note', req.params.id);
    await monitor.addNote(who, req.params.id, jsonObjectBody(req));
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/monitor/cases/:id/status', async (req, reply) => {
    const who = await officer(req, 'case.status', req.params.id);
    await monitor.setStatus(who, req.params.id, jsonObjectBody(req));
    return reply.status(204).send();
  });
}

function oneOf<T extends string>(req: FastifyRequest, fallback: T, allowed: readonly T[]): T {
  const s = (req.query as { status?: unknown }).status ?? fallback;
  if (typeof s !== 'string' || !allowed.includes(s as T)) throw new FhirError(400, 'invalid', `status must be ${allowed.join(', ')}`);
  return s as T;
}
