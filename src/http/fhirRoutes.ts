/** /fhir: a thin shell over the FHIR service. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { capabilityStatement, processBundle, type ElementSelection, type StoredVersion } from '../records/index.js';
import { FhirError, isSupportedType } from '../shared/index.js';
import { compartmentQuery, conditionQuery, parseElements, searchQuery, withElements } from '../records/index.js';
import type { Carewall } from '../runtime.js';
import { FHIR_JSON, requireWho } from './server.js';
import { VERSION } from '../version.js';

type Params = { type: string; id: string; vid: string };

export async function registerFhirRoutes(app: FastifyInstance, cw: Pick<Carewall, 'fhir' | 'settings'>): Promise<void> {
  const fhir = cw.fhir;

  // JSON is the one format served: a client asking for XML alone is told so (406), never handed JSON.
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/fhir')) return;
    if (wantsXmlOnly(req)) throw new FhirError(406, 'not-supported', 'this server answers FHIR JSON only (application/fhir+json)');
    // PATCH is not implemented: said as 405 with what is allowed (before any body is read, whatever its type), not as an unknown path.
    if (req.method === 'PATCH')
      throw new FhirError(405, 'not-supported', 'PATCH is not supported: read the resource and PUT it whole', [], { allow: 'GET, PUT, DELETE' });
  });

  app.get('/fhir/metadata', async (req, reply) =>
    send(reply, 200, capabilityStatement(origin(req), VERSION, cw.settings.publicUrl ? `${cw.settings.publicUrl}/auth/token` : undefined)),
  );

  // Batches and transactions at the base, with or without its trailing slash (clients post to both).
  for (const base of ['/fhir', '/fhir/'])
    app.post(base, async (req, reply) => send(reply, 200, await processBundle(fhir, requireWho(req), req.body, selfUrl(req))));

  app.get<{ Params: Params }>('/fhir/:type', async (req, reply) =>
    send(reply, 200, await fhir.search(requireWho(req), req.params.type, queryOf(req), selfUrl(req))),
  );

  app.post<{ Params: Params }>('/fhir/:type/_search', async (req, reply) => {
    // POST _search: parameters in the form body (and possibly the URL), answered like GET.
    const query = queryOf(req);
    const form = req.body && typeof req.body === 'object' ? (req.body as Record<string, string | string[]>) : {};
    for (const [k, v] of Object.entries(form)) (query[k] ??= []).push(...(Array.isArray(v) ? v : [v]));
    const url = new URL(`${origin(req)}/fhir/${req.params.type}`);
    for (const [k, vs] of Object.entries(query)) for (const v of vs) url.searchParams.append(k, v);
    return send(reply, 200, await fhir.search(requireWho(req), req.params.type, query, url));
  });

  app.get<{ Params: Params }>('/fhir/:type/_history', async (req, reply) =>
    send(reply, 200, await fhir.history(requireWho(req), req.params.type, undefined, queryOf(req), selfUrl(req))),
  );

  app.post<{ Params: Params }>('/fhir/:type', async (req, reply) => {
    const ifNoneExist = header(req, 'if-none-exist');
    if (ifNoneExist !== undefined) {
      const r = await fhir.conditionalCreate(requireWho(req), req.params.type, req.body, conditionQuery(ifNoneExist));
      if (!r.created) return sendVersion(reply, 200, r.version);
      reply.header('Location', `${origin(req)}/fhir/${r.version.resourceType}/${r.version.id}/_history/${r.version.versionId}`);
      return sendVersion(reply, 201, r.version);
    }
    const v = await fhir.create(requireWho(req), req.params.type, req.body);
    reply.header('Location', `${origin(req)}/fhir/${v.resourceType}/${v.id}/_history/${v.versionId}`);
    return sendVersion(reply, 201, v);
  });

  // Conditional update: PUT /fhir/Type?criteria.
  app.put<{ Params: Params }>('/fhir/:type', async (req, reply) => {
    const search = new URL(req.url, 'http://x').searchParams;
    if ([...search.keys()].length === 0) throw new FhirError(400, 'invalid', 'PUT needs a resource id (Type/id) or search criteria (Type?criteria)');
    const r = await fhir.conditionalUpdate(requireWho(req), req.params.type, conditionQuery(search), req.body, header(req, 'if-match'));
    if (r.created) reply.header('Location', `${origin(req)}/fhir/${r.version.resourceType}/${r.version.id}/_history/${r.version.versionId}`);
    return sendVersion(reply, r.created ? 201 : 200, r.version);
  });

  // Patient compartment: /fhir/Patient/<id>/<type> searches <type> within that patient's records.
  // The static `Patient` segment outranks `:type`, so find-my-way would hand /fhir/Patient/<id>/_history
  // to the compartment route: Patient's history routes are repeated with a static `_history`.
  app.get<{ Params: Params & { compartmentType: string } }>('/fhir/Patient/:id/:compartmentType', async (req, reply) => {
    const query = compartmentQuery(req.params.id, req.params.compartmentType, queryOf(req));
    return send(reply, 200, await fhir.search(requireWho(req), req.params.compartmentType, query, selfUrl(req)));
  });
  app.get<{ Params: Params }>('/fhir/Patient/:id/_history', async (req, reply) =>
    send(reply, 200, await fhir.history(requireWho(req), 'Patient', req.params.id, queryOf(req), selfUrl(req))),
  );
  app.get<{ Params: Params }>('/fhir/Patient/:id/_history/:vid', async (req, reply) => {
    const elements = elementsOf(req, 'Patient');
    return sendVersion(reply, 200, await fhir.vread(requireWho(req), 'Patient', req.params.id, req.params.vid), elements);
  });

  app.get<{ Params: Params }>('/fhir/:type/:id', async (req, reply) => {
    const elements = elementsOf(req, req.params.type);
    return sendVersion(reply, 200, await fhir.read(requireWho(req), req.params.type, req.params.id), elements);
  });

  app.put<{ Params: Params }>('/fhir/:type/:id', async (req, reply) => {
    const v = await fhir.update(requireWho(req), req.params.type, req.params.id, req.body, header(req, 'if-match'));
    return sendVersion(reply, 200, v);
  });

  app.delete<{ Params: Params }>('/fhir/:type/:id', async (req, reply) => {
    const v = await fhir.delete(requireWho(req), req.params.type, req.params.id, header(req, 'if-match'));
    if (v) reply.header('ETag', `W/"${v.versionId}"`);
    return reply.status(204).send();
  });

  app.get<{ Params: Params }>('/fhir/:type/:id/_history', async (req, reply) =>
    send(reply, 200, await fhir.history(requireWho(req), req.params.type, req.params.id, queryOf(req), selfUrl(req))),
  );

  app.get<{ Params: Params }>('/fhir/:type/:id/_history/:vid', async (req, reply) => {
    const elements = elementsOf(req, req.params.type);
    return sendVersion(reply, 200, await fhir.vread(requireWho(req), req.params.type, req.params.id, req.params.vid), elements);
  });
}

function send(reply: FastifyReply, status: number, body: unknown) {
  return reply.status(status).type(FHIR_JSON).send(body);
}

function sendVersion(reply: FastifyReply, status: number, v: StoredVersion, elements?: ElementSelection) {
  reply.header('ETag', `W/"${v.versionId}"`).header('Last-Modified', v.lastUpdated.toUTCString());
  return send(reply, status, withElements(elements, v.resource as Resource));
}

/**
 * A read's `_elements`, checked before anything is read (a bad name is a 400 that reads nothing).
 * An unknown type is left to the read, which answers it with its 404.
 */
function elementsOf(req: FastifyRequest, type: string): ElementSelection | undefined {
  return isSupportedType(type) ? parseElements(queryOf(req)._elements, [type]) : undefined;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const XML = /^(application\/fhir\+xml|application\/xml|text\/xml|xml)$/i;
const JSON_OK = /^(application\/fhir\+json|application\/json|application\/json\+fhir|json|text\/json|\*\/\*|application\/\*)$/i;

/** `_format=xml`, or an Accept header that names XML and nothing this server can answer with. */
function wantsXmlOnly(req: FastifyRequest): boolean {
  const format = new URLSearchParams(req.url.split('?')[1] ?? '').get('_format');
  if (format) return XML.test(format.trim());
  const accept = req.headers.accept;
  if (!accept) return false;
  const types = accept.split(',').map((t) => t.split(';')[0].trim());
  return types.some((t) => XML.test(t)) && !types.some((t) => JSON_OK.test(t));
}

function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

function selfUrl(req: FastifyRequest): URL {
  return new URL(req.url, origin(req));
}

/** Query parameters as name → every value given (repeated parameters are ANDed by search). */
function queryOf(req: FastifyRequest): Record<string, string[]> {
  return searchQuery(new URL(req.url, 'http://x').searchParams);
}
