/**
 * The HTTP shell: parsing, authentication, error shapes. Every route hands its work to a capability
 * (records, identity) which asks the enforcement point (access/authorize) before touching data.
 */
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { AccessDeniedError } from '../access/index.js';
import { type RequestDetails, type Who } from '../shared/index.js';
import { AuditUnavailableError } from '../audit/index.js';
import { classifyDatabaseError, DatabaseUnavailableError } from '../db/index.js';
import { DecryptionError } from '../keys/index.js';
import { parseStrictJson, StrictJsonError } from '../util/index.js';
import { FhirError, outcome } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { registerAccessRoutes } from './accessRoutes.js';
import { registerAdmission } from './admission.js';
import { EMBEDDED_REQUESTS_AT_ONCE, registerWorkGate, WorkGate } from './workGate.js';
import { registerAuditRoutes } from './auditRoutes.js';
import { registerClientRoutes } from './clientRoutes.js';
import { registerConsoleRoutes } from './consoleRoutes.js';
import { registerExportRoutes } from './exportRoutes.js';
import { registerFhirRoutes } from './fhirRoutes.js';
import { registerGuardRoutes } from './guardRoutes.js';
import { registerMonitorRoutes } from './monitorRoutes.js';
import { registerSessionRoutes } from './sessionRoutes.js';
import { registerUserRoutes } from './userRoutes.js';
import { describeSchemaErrors } from './schemaErrors.js';
import { compilersFactory } from './schemaCompilers.js';
import { registerUpdatesRoutes } from './updatesRoutes.js';
import { registerReleaseRoutes } from './releaseRoutes.js';
import { registerDirectorRoutes } from './directorRoutes.js';
import { registerInventoryRoutes } from './inventoryRoutes.js';
import { registerAdvisoryRoutes } from './advisoryRoutes.js';
import { registerAwarenessRoutes } from './awarenessRoutes.js';
import { registerPostureRoutes } from './postureRoutes.js';

declare module 'fastify' {
  interface FastifyRequest {
    who?: Who;
    /** The bearer token as presented, for logout. */
    token?: string;
  }
}

/** Methods that never write: nothing to note for read-your-writes. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const FHIR_JSON = 'application/fhir+json';
/** Retry-After of a 503 while the database or the audit log is away: a restart or failover takes seconds. */
export const RETRY_AFTER_SECONDS = 3;
/** Answers with patient data, tokens or accounts: never kept by a browser or a proxy. */
const NOT_CACHED = /^\/(fhir|api|auth)(\/|\?|$)/;

export async function buildServer(cw: Carewall): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: cw.log as FastifyBaseLogger,
    bodyLimit: cw.settings.bodyLimitBytes,
    // A request must arrive whole within this time: a stalled body holds memory (admission.ts).
    requestTimeout: cw.settings.requestTimeoutSeconds * 1000,
    // Node applies the request timeout only when the headers' own timeout is no longer (measured:
    // with its default 60 s and a shorter request timeout, a stalled body was never cut off), and
    // looks for requests past their time every 30 s by default: a tenth of the limit instead.
    http: {
      headersTimeout: Math.min(60_000, cw.settings.requestTimeoutSeconds * 1000),
      connectionsCheckingInterval: Math.max(100, Math.min(5000, cw.settings.requestTimeoutSeconds * 100)),
    },
    // Fastify's own request lines carry the URL with its query string (patient data): ours don't.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => crypto.randomUUID(),
    // Behind the clinic's TLS proxy every request comes from the proxy: only its forwarded address
    // tells callers apart (the audit log, the sign-in throttle per address).
    ...(cw.settings.trustProxy?.length ? { trustProxy: cw.settings.trustProxy } : {}),
    // Route schemas (src/api) check what was sent as sent: Fastify's defaults would coerce a number
    // to a string and silently drop an unknown field where the schema refuses it. Verbose errors
    // carry the schema, for the allowed field names in the refusal (schemaErrors.ts).
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, verbose: true } },
    schemaErrorFormatter: (errors, dataVar) => new FhirError(400, 'invalid', describeSchemaErrors(errors, dataVar)),
    // Fastify's own compilers, each route's schema compiled once per process (schemaCompilers.ts).
    schemaController: { compilersFactory: compilersFactory as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'] },
  });

  // FHIR clients send application/fhir+json; some send application/json. Both are read strictly, as
  // bytes (util/strictJson.ts: what cannot be kept exactly is refused, never silently altered).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', FHIR_JSON], { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, (body as Buffer).length === 0 ? undefined : parseStrictJson(body as Buffer));
    } catch (err) {
      done(new FhirError(400, 'structure', `request body: ${err instanceof StrictJsonError ? err.message : 'not valid JSON'}`), undefined);
    }
  });
  await app.register(formbody);

  // On every answer of these paths, errors and 404s included (onSend runs for them all); a route
  // that sets its own Cache-Control sets the same.
  app.addHook('onSend', async (req, reply) => {
    if (NOT_CACHED.test(req.url)) reply.header('cache-control', 'no-store');
  });

  // Read-your-writes with a replica: a caller's write is noted before they hear it succeeded, so
  // that their next read, in whichever process, waits for the replica or goes to the primary.
  // A note that fails (the database gone that instant) costs only that guarantee, never the answer:
  // the write itself is committed, and answering it as failed would invite a duplicate.
  app.addHook('onSend', async (req, reply) => {
    // System clients never read from the replica (their reads carry no position), so nothing to note for them.
    if (!req.who || req.who.client || READ_METHODS.has(req.method) || reply.statusCode >= 400) return;
    await cw.identity
      .noteWrite(req.who)
      .catch((err: unknown) => req.log.warn({ code: (err as { code?: string }).code }, 'read-your-writes: the write position was not noted'));
  });

  // Before the routes, whose own preHandlers read the database; its onSend after the others.
  if (cw.db.singleProcess) registerWorkGate(app, new WorkGate(EMBEDDED_REQUESTS_AT_ONCE));

  // Patient data may sit in query strings: log the path only.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ reqId: req.id, method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  // The caller carries the request it came through (client, request id, the search asked) down to
  // the audit log; a copy, since authenticate may hand out a cached caller.
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      req.token = header.slice('Bearer '.length).trim();
      const who = (await cw.identity.authenticate(req.token)) ?? (await cw.clients.authenticate(req.token)) ?? undefined;
      req.who = who && { ...who, request: requestDetails(req) };
    }
  });
  // Before any body is read: strangers' bodies only where a stranger may send one, small, and few at a time.
  registerAdmission(app);

  app.setErrorHandler((raised, req, reply) => {
    // A connection failure that reached here unclassified is still the database being away.
    const err = classifyDatabaseError(raised) as typeof raised;
    const isFhir = req.url.startsWith('/fhir');
    const send = (status: number, body: object, headers: Record<string, string> = {}) =>
      reply
        .status(status)
        .headers(headers)
        .type(isFhir ? FHIR_JSON : 'application/json')
        .send(body);
    if (err instanceof FhirError) {
      return send(err.status, isFhir ? err.toOutcome() : { error: err.message }, err.headers);
    }
    if (err instanceof AccessDeniedError) {
      const status = err.decision.reason === 'not authenticated' ? 401 : 403;
      const text = status === 401 ? 'authentication required' : 'access denied';
      return send(status, isFhir ? outcome(status === 401 ? 'login' : 'forbidden', text) : { error: text });
    }
    // Both are passing (the database restarting, a failover): 503, and when to try again. Only the
    // cause's code is logged: a database error's text can quote values.
    const retry = { 'retry-after': String(RETRY_AFTER_SECONDS) };
    if (err instanceof AuditUnavailableError) {
      // Fail closed: nothing is served that the audit log could not record.
      req.log.error({ reqId: req.id, cause: causeCode(err) }, 'audit log unavailable: request refused');
      return send(503, isFhir ? outcome('transient', 'audit log unavailable') : { error: 'audit log unavailable' }, retry);
    }
    if (err instanceof DatabaseUnavailableError) {
      req.log.warn({ reqId: req.id, cause: causeCode(err) }, 'database unavailable: request refused');
      return send(503, isFhir ? outcome('transient', 'storage unavailable') : { error: 'storage unavailable' }, retry);
    }
    if (err instanceof DecryptionError) {
      // Stored bytes altered, moved between rows, or a wrong master key: never serve them.
      req.log.error({ reqId: req.id, path: req.url.split('?')[0] }, 'stored record failed its integrity check');
      const text = `a stored record failed its integrity check (request ${req.id})`;
      return send(500, isFhir ? outcome('exception', text) : { error: text });
    }
    const e = err as { statusCode?: number; code?: string };
    if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(413, isFhir ? outcome('too-long', 'request body too large') : { error: 'request body too large' });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      // Fastify's own 4xx (unsupported media type, bad headers): its message names no caller data.
      return send(e.statusCode, isFhir ? outcome('invalid', (err as Error).message) : { error: (err as Error).message });
    }
    // The message is left out: database errors can quote the values they choked on.
    const stack = ((err as Error).stack ?? '').split('\n').slice(1).join('\n');
    req.log.error({ reqId: req.id, err: { type: (err as Error).name, code: e.code, stack } }, 'unhandled error');
    return send(500, isFhir ? outcome('exception', `internal error (request ${req.id})`) : { error: `internal error (request ${req.id})` });
  });

  app.setNotFoundHandler((req, reply) => {
    const isFhir = req.url.startsWith('/fhir');
    reply
      .status(404)
      .type(isFhir ? FHIR_JSON : 'application/json')
      .send(isFhir ? outcome('not-supported', 'unknown path') : { error: 'unknown path' });
  });

  // Each route plugin gets only the services it uses (its type says which).
  await registerExportRoutes(app, { exports: cw.exports });
  await registerFhirRoutes(app, { fhir: cw.fhir, settings: cw.settings });
  await registerSessionRoutes(app, { identity: cw.identity });
  await registerUserRoutes(app, { identity: cw.identity });
  await registerAccessRoutes(app, { grants: cw.grants, notices: cw.notices, identity: cw.identity, fhir: cw.fhir });
  await registerAuditRoutes(app, { audit: cw.audit, identity: cw.identity });
  await registerClientRoutes(app, { clients: cw.clients, settings: cw.settings });
  await registerMonitorRoutes(app, { audit: cw.audit, monitor: cw.monitor });
  await registerGuardRoutes(app, { audit: cw.audit, guard: cw.guard, backups: cw.backups });
  await registerUpdatesRoutes(app, { updates: cw.updates });
  await registerReleaseRoutes(app, { releases: cw.releases, updates: cw.updates });
  await registerDirectorRoutes(app, { director: cw.director });
  await registerInventoryRoutes(app, { inventory: cw.inventory });
  await registerAdvisoryRoutes(app, { advisories: cw.advisories });
  await registerAwarenessRoutes(app, { awareness: cw.awareness });
  await registerPostureRoutes(app, { posture: cw.posture });
  await registerConsoleRoutes(app, { access: cw.access, audit: cw.audit, fhir: cw.fhir, identity: cw.identity, settings: cw.settings });
  return app;
}

/** The code (ECONNRESET, 57P01) of what an error wraps, however deep, for the log. */
function causeCode(err: Error): string | undefined {
  let cause = err.cause as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; cause && depth < 4; depth++, cause = cause.cause as typeof cause) {
    if (typeof cause.code === 'string') return cause.code;
  }
  return undefined;
}

/**
 * What the audit log keeps of a request: its id, the client's address and user agent, and the query
 * string (a search's parameters, which the log seals). For the records of callers not yet known (a
 * sign-in, a device's report); an authenticated caller carries it as `Who.request`.
 */
export function requestDetails(req: FastifyRequest): RequestDetails {
  const q = req.url.indexOf('?');
  return { requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'], query: q >= 0 ? req.url.slice(q + 1) : undefined };
}

/** The caller, or a 401 when there is none. */
export function requireWho(req: FastifyRequest): Who {
  if (!req.who) throw new AccessDeniedError({ allowed: false, reason: 'not authenticated' });
  return req.who;
}
