/**
 * Account administration over HTTP: create, list, disable. Each route asks the enforcement point
 * before reading the body, so a non-admin learns nothing about what would have been accepted.
 */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../access/index.js';
import { AccountCreated, AccountList, BindingDecided, NewAccountBody, StaffDirectory, type UsernameParams } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { jsonBody, toApiError } from './sessionRoutes.js';

export async function registerUserRoutes(app: FastifyInstance, cw: Pick<Carewall, 'identity'>): Promise<void> {
  // The body's shape (unknown fields refused) is NewAccountBody's, checked after the caller is
  // authorised: a non-admin learns nothing about what would have been accepted.
  const newAccount = { body: NewAccountBody, response: { '2xx': AccountCreated } };
  app.post<{ Body: NewAccountBody; Reply: AccountCreated }>(
    '/api/users',
    { schema: newAccount, preValidation: jsonBody((req) => authorize(requireWho(req), 'user.create')) },
    async (req, reply) => {
      const who = requireWho(req);
      const body = req.body;
      let created;
      try {
        created = await cw.identity.createAccount(
          {
            username: body.username,
            password: body.password,
            roles: body.roles,
            practitioner: body.practitioner,
            validUntil: body.validUntil,
            requireTotp: body.requireTotp,
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
    },
  );

  // The second person on a request to act as a practitioner bound before (another admin, a privacy officer).
  app.post<{ Params: UsernameParams; Reply: BindingDecided }>(
    '/api/users/:username/practitioner/approve',
    { schema: { response: { 200: BindingDecided } } },
    async (req) => {
      try {
        return await cw.identity.decideBinding(req.params.username, true, { who: requireWho(req) });
      } catch (err) {
        throw toApiError(err);
      }
    },
  );
  app.post<{ Params: { username: string } }>('/api/users/:username/practitioner/reject', async (req, reply) => {
    try {
      await cw.identity.decideBinding(req.params.username, false, { who: requireWho(req) });
    } catch (err) {
      throw toApiError(err);
    }
    return reply.status(204).send();
  });

  app.get<{ Reply: StaffDirectory }>('/api/staff', { schema: { response: { 200: StaffDirectory } } }, async (req) => ({
    staff: await cw.identity.staffDirectory(requireWho(req)),
  }));

  app.get<{ Reply: AccountList }>('/api/users', { schema: { response: { 200: AccountList } } }, async (req) => {
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

  // Enabling again is the administrator's as disabling is; recorded as 'user.enable'.
  app.post<{ Params: { username: string } }>('/api/users/:username/enable', async (req, reply) => {
    const who = requireWho(req);
    authorize(who, 'user.disable');
    try {
      await cw.identity.enableAccount(req.params.username, { who });
    } catch (err) {
      throw toApiError(err);
    }
    return reply.status(204).send();
  });
}
