/**
 * What a request must be before the server reads its body. A body is buffered in memory before it
 * is parsed, so a stranger who opens many connections, sends most of a large body and stalls could
 * hold the server's memory (an outside attack: 150 stalled 7.9 MB bodies held 835 MB). Hence:
 *  - the caller is authenticated from the headers (server.ts, onRequest) and a request with a body
 *    to any route that needs a caller is refused with 401 at once, before a byte of it is read;
 *  - the few routes that take a body from a stranger (signing in, a client's token request) accept
 *    only a small one, and each address may have only a few of them in flight at a time;
 *  - every request must arrive whole within the server's request timeout (server.ts).
 * The counts are per process: they bound what one process holds, which is what they protect.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccessDeniedError } from '../access/index.js';
import { FhirError } from '../shared/index.js';

/** Routes that take a body from a caller who is not signed in yet (a device signs its manifest instead; a simulation's quiz answers carry its token). */
const PUBLIC_WITH_BODY = new Set(['POST /api/session', 'POST /auth/token', 'POST /updates/devices/:id/manifest', 'POST /aw/q/:token']);
/** A sign-in or a token request is a few hundred bytes; a client assertion a few kilobytes. */
export const PUBLIC_BODY_LIMIT = 64 * 1024;
/** Requests with a body from strangers in flight per address: a few browsers behind one address sign in at once. */
export const PUBLIC_IN_FLIGHT_PER_ADDRESS = 8;

function carriesBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function registerAdmission(app: FastifyInstance): void {
  // Registered before the routes: each public route gets the small body limit.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.some((m) => PUBLIC_WITH_BODY.has(`${m} ${route.url}`))) route.bodyLimit = Math.min(route.bodyLimit ?? Infinity, PUBLIC_BODY_LIMIT);
  });

  const inFlight = new Map<string, number>();
  const release = (ip: string) => {
    const n = (inFlight.get(ip) ?? 1) - 1;
    if (n <= 0) inFlight.delete(ip);
    else inFlight.set(ip, n);
  };

  // Runs after authentication (the hook is added after server.ts's), before the body is read.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.who || !carriesBody(req)) return;
    const route = `${req.method} ${req.routeOptions.url ?? ''}`;
    if (!PUBLIC_WITH_BODY.has(route)) {
      // The body is never read: the connection closes after the answer instead of draining it.
      reply.header('connection', 'close');
      throw new AccessDeniedError({ allowed: false, reason: 'not authenticated' });
    }
    const n = inFlight.get(req.ip) ?? 0;
    if (n >= PUBLIC_IN_FLIGHT_PER_ADDRESS) {
      reply.header('connection', 'close');
      throw new FhirError(429, 'throttled', 'too many requests from this address at once; try again shortly', [], { 'retry-after': '5' });
    }
    inFlight.set(req.ip, n + 1);
    reply.raw.once('close', () => release(req.ip));
  });
}
