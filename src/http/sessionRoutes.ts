/**
 * POST /api/session (login) and DELETE /api/session (logout). The JSON shapes and status codes here
 * are a published contract: outside tools log in through them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginBody, PasswordChangeBody, SessionCreated } from '../api/index.js';
import { AccountLockedError, IdentityError } from '../identity/index.js';
import { FhirError } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { requestDetails, requireWho } from './server.js';

/** Identity's typed failures as API errors; anything else is left for the server's error handler. */
export function toApiError(err: unknown): unknown {
  if (!(err instanceof IdentityError)) return err;
  switch (err.kind) {
    case 'invalid-credentials':
      return new FhirError(401, 'login', err.message);
    case 'locked': {
      const seconds = err instanceof AccountLockedError ? Math.max(1, err.retryAfterSeconds) : 60;
      return new FhirError(429, 'throttled', err.message, [], { 'retry-after': String(seconds) });
    }
    case 'invalid-input':
      return new FhirError(400, 'invalid', err.message);
    case 'duplicate':
      return new FhirError(409, 'duplicate', err.message);
    case 'not-found':
      return new FhirError(404, 'not-found', err.message);
    case 'conflict':
      return new FhirError(409, 'conflict', err.message);
    case 'forbidden':
      return new FhirError(403, 'forbidden', err.message);
  }
}

/** A 400 unless the body is JSON. Form-encoded bodies are refused: the contract is JSON. */
function requireJsonType(req: FastifyRequest): void {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/json' && type !== 'application/fhir+json') {
    throw new FhirError(400, 'structure', 'request body must be JSON (content-type application/json)');
  }
}

/** A JSON object body, or a 400 (routes whose body has no schema of its own yet). */
export function jsonObjectBody(req: FastifyRequest): Record<string, unknown> {
  requireJsonType(req);
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FhirError(400, 'structure', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/**
 * The preValidation of a route whose body has a schema (src/api): first who may call it (`allowed`,
 * so that a caller who may not learns nothing of what would have been accepted), then JSON only;
 * the schema is checked after it.
 */
export function jsonBody(allowed?: (req: FastifyRequest) => unknown): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    await allowed?.(req);
    requireJsonType(req);
  };
}

export async function registerSessionRoutes(app: FastifyInstance, cw: Pick<Carewall, 'identity'>): Promise<void> {
  // The body's shape is the route's schema (src/api/session.ts), checked before this runs.
  const schema = { body: LoginBody, response: { 201: SessionCreated } };
  app.post<{ Body: LoginBody; Reply: SessionCreated }>('/api/session', { schema, preValidation: jsonBody() }, async (req, reply) => {
    const body = req.body;
    // Codes are digits; a client that sends them as a JSON number has lost any leading zeros.
    const otp = typeof body.otp === 'number' ? String(body.otp).padStart(6, '0') : (body.otp ?? undefined);
    let session;
    try {
      session = await cw.identity.login({ username: body.username, password: body.password, otp }, requestDetails(req));
    } catch (err) {
      throw toApiError(err);
    }
    // The token is a credential: no cache along the way may keep the response.
    reply.header('cache-control', 'no-store');
    return reply.status(201).send({ token: session.token, expiresAt: session.expiresAt.toISOString() });
  });

  // A person's own password; the current one is required, their other sessions end.
  app.post<{ Body: PasswordChangeBody }>('/api/session/password', { schema: { body: PasswordChangeBody }, preValidation: jsonBody() }, async (req, reply) => {
    try {
      await cw.identity.changeOwnPassword(requireWho(req), req.token!, req.body.currentPassword, req.body.newPassword);
    } catch (err) {
      throw toApiError(err);
    }
    return reply.status(204).send();
  });

  app.delete('/api/session', async (req, reply) => {
    await cw.identity.logout(req.token!, requireWho(req));
    return reply.status(204).send();
  });
}
