/**
 * Account administration over HTTP: create, list, disable. Each route asks the enforcement point
 * before reading the body, so a non-admin learns nothing about what would have been accepted.
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../access/index.js';
import { FhirError } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { jsonObjectBody, toApiError } from './sessionRoutes.js';

const FIELDS = new Set(['username', 'password', 'roles', 'practitioner', 'validUntil', 'requireTotp']);

export async function registerUserRoutes(app: FastifyInstance, cw: Pick<Carewall, 'identity'>): Promise<void> {
  app.post('/api/users', async (req, reply) => {
    const who = requireWho(req);
    authorize(who, 'user.create');
    const body = jsonObjectBody(req);
    // Unknown fields are refused rather than ignored: a misspelt 'practioner' must not silently create
    // an account without its link.
    // The offending names are not echoed: nothing the caller sent is repeated back.
    if (Object.keys(body).some((k) => !FIELDS.has(k))) {
      throw new FhirError(400, 'structure', `unknown field; allowed: ${[...FIELDS].join(', ')}`);
    }
    if (typeof body.username !== 'string' || typeof body.password !== 'string' || !Array.isArray(body.roles)) {
      throw new FhirError(400, 'required', 'username and password (strings) and roles (list) are required');
    }
    if (body.requireTotp !== undefined && typeof body.requireTotp !== 'boolean') {
      throw new FhirError(400, 'invalid', 'requireTotp must be true or false');
    }
    let created;
    try {
      created = await cw.identity.createAccount(
        {
          username: body.username,
          password: body.password,
          roles: body.roles as string[],
          practitioner: body.practitioner as string | null | undefined,
          validUntil: body.validUntil as string | null | undefined,
          requireTotp: body.requireTotp as boolean | undefined,
        },
        { who },
      );
    } catch (err) {
      throw toApiError(err);
    }
    // The TOTP URI carries the secret.
    reply.header('cache-control', 'no-store');
    // 202: the account exists, its practitioner waits for a second person's approval.
    return reply.status(created.pendingPractitioner ? 202 : 201).send({
      id: created.id,
      username: created.username,
      roles: created.roles,
      practitioner: created.practitioner ?? null,
      ...(created.pendingPractitioner ? { pendingPractitioner: created.pendingPractitioner } : {}),
      ...(created.totpUri ? { totpUri: created.totpUri } : {}),
    });
  });

  // The second person on a request to act as a practitioner bound before (another admin, a privacy officer).
  app.post<{ Params: { username: string } }>('/api/users/:username/practitioner/approve', async (req) => {
    try {
      return await cw.identity.decideBinding(req.params.username, true, { who: requireWho(req) });
    } catch (err) {
      throw toApiError(err);
    }
  });
  app.post<{ Params: { username: string } }>('/api/users/:username/practitioner/reject', async (req, reply) => {
    try {
      await cw.identity.decideBinding(req.params.username, false, { who: requireWho(req) });
    } catch (err) {
      throw toApiError(err);
    }
    return reply.status(204).send();
  });

  app.get('/api/users', async (req) => {
    const who = requireWho(req);
    authorize(who, 'user.list');
    return { users: await cw.identity.listAccounts({ who }) };
  });

  app.post<{ Params: { username: string } }>('/api/users/:username/disable', async (req, reply) => {
    const who = requireWho(req);
    authorize(who, 'user.disable');
    try {
      await cw.identity.disableAccount(req.params.username, { who });
    } catch (err) {
      throw toApiError(err);
    }
    return reply.status(204).send();
  });
}
