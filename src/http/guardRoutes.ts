/**
 * /api/guard: the ransomware guard's state and alarms (counts and share names; the paths stay in
 * the alerts file on the watching machine), and the release after an alarm's clean-up; and
 * /api/backups/status, where backups stand. A thin shell over guard/ and backup/; every call,
 * allowed or refused, is a record in the audit log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize, type AdminAction } from '../access/index.js';
import { auditUser } from '../audit/index.js';
import { BackupStatusView, GuardReleased, GuardView } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';

export async function registerGuardRoutes(app: FastifyInstance, cw: Pick<Carewall, 'audit' | 'guard' | 'backups'>): Promise<void> {
  const allowed = async (req: FastifyRequest, action: AdminAction): Promise<void> => {
    const who = requireWho(req);
    const user = auditUser(who);
    try {
      authorize(who, action);
    } catch (err) {
      await cw.audit.record({ action, outcome: 'denied', user, request: who.request, explanation: { reason: (err as Error).message } });
      throw err;
    }
    await cw.audit.record({ action, outcome: 'success', user, request: who.request });
  };

  app.get<{ Reply: GuardView }>('/api/guard', { schema: { response: { 200: GuardView } } }, async (req) => {
    await allowed(req, 'guard.read');
    const undo = cw.backups.restoreAdvice();
    return { ...cw.guard.status(), alarms: await cw.guard.alarms(), ...(undo ? { undo } : {}) };
  });

  // The other half of the ransomware defence: whether there is something to restore from.
  app.get<{ Reply: BackupStatusView }>('/api/backups/status', { schema: { response: { 200: BackupStatusView } } }, async (req) => {
    await allowed(req, 'backup.read');
    return cw.backups.status();
  });

  app.post<{ Reply: GuardReleased }>('/api/guard/release', { schema: { response: { 200: GuardReleased } } }, async (req) => {
    await allowed(req, 'guard.release');
    return cw.guard.release();
  });
}
