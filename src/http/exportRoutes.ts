/**
 * FHIR Bulk Data export: kick-off (`GET /fhir/$export`, `GET /fhir/Patient/$export`,
 * `GET /fhir/Group/{id}/$export`, and each by POST), status
 * (`GET /fhir/$export-status/{id}`), download (`GET /fhir/$export-file/{id}/{n}`), and the second
 * person's decision (`/api/exports`). A thin shell over bulk/export.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExportLevel, ExportStatus } from '../bulk/index.js';
import { prefersLenient, UNSUPPORTED_EXPORT_PARAMETERS } from '../bulk/index.js';
import { FhirError } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';

const NDJSON_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
type Query = Record<string, string | string[] | undefined>;
const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v[v.length - 1] : v);
const list = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? v : v ? [v] : [])
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * A kick-off's Parameters body as the query it stands for: each parameter's value (string, code,
 * instant, or a reference's text for patient), repeated parameters in order.
 */
function parametersOf(body: unknown): Query {
  const b = body as { resourceType?: unknown; parameter?: unknown } | null;
  if (!b || b.resourceType !== 'Parameters' || (b.parameter !== undefined && !Array.isArray(b.parameter)))
    throw new FhirError(400, 'invalid', 'a POST kick-off sends a Parameters resource');
  const out: Record<string, string[]> = {};
  for (const p of (b.parameter ?? []) as Array<Record<string, unknown>>) {
    if (typeof p?.name !== 'string') throw new FhirError(400, 'invalid', 'each parameter needs a name');
    const ref = p.valueReference as { reference?: unknown } | undefined;
    const value = ref ? ref.reference : (p.valueString ?? p.valueCode ?? p.valueInstant ?? p.valueDateTime ?? p.valueBoolean);
    if (value === undefined || (typeof value !== 'string' && typeof value !== 'boolean'))
      throw new FhirError(400, 'invalid', 'a parameter has no value this server reads (valueString, valueCode, valueInstant or valueReference)');
    (out[p.name] ??= []).push(String(value));
  }
  return out;
}

export async function registerExportRoutes(app: FastifyInstance, cw: Pick<Carewall, 'exports'>): Promise<void> {
  const base = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

  const kickOff = (level: ExportLevel) => async (req: FastifyRequest<{ Querystring: Query; Body: unknown; Params: { id?: string } }>, reply: FastifyReply) => {
    const who = requireWho(req);
    if (!/respond-async/.test(String(req.headers.prefer ?? ''))) throw new FhirError(400, 'invalid', 'a bulk export needs the header Prefer: respond-async');
    // Bulk Data requires Accept (the format of an OperationOutcome answer): FHIR JSON, the only one here.
    const accept = String(req.headers.accept ?? '').trim();
    if (!accept) throw new FhirError(400, 'invalid', 'a bulk export needs the header Accept: application/fhir+json');
    if (!/(^|,)\s*(application\/(fhir\+)?json|application\/\*|\*\/\*)\s*(;|,|$)/i.test(accept))
      throw new FhirError(406, 'not-supported', 'a bulk export answers in application/fhir+json only');
    // GET passes the parameters in the query; POST (Bulk Data 2) in a Parameters body, the only way to pass patient.
    const query = req.method === 'POST' ? parametersOf(req.body) : req.query;
    // Parameters this server does not implement are refused, or with `Prefer: handling=lenient`
    // ignored and reported in the manifest's error file; never silently ignored.
    const lenient = prefersLenient(String(req.headers.prefer ?? ''));
    const ignored = UNSUPPORTED_EXPORT_PARAMETERS.filter((name) => query[name] !== undefined);
    if (ignored.length > 0 && !lenient) throw new FhirError(400, 'not-supported', `${ignored[0]} is not supported by this server's export`);
    const format = last(query._outputFormat);
    if (format && !NDJSON_FORMATS.includes(format)) throw new FhirError(400, 'not-supported', '_outputFormat must be application/fhir+ndjson');
    if (level !== 'patient' && query.patient) throw new FhirError(400, 'not-supported', 'patient applies to Patient/$export only on this server');
    const job = await cw.exports.request(who, {
      level,
      ...(level === 'group' ? { group: req.params.id } : {}),
      types: list(query._type),
      since: last(query._since),
      ...(query.patient ? { patients: list(query.patient) } : {}),
      ...(query._elements !== undefined ? { elements: list(query._elements) } : {}),
      request: `${base(req)}${req.url}`,
      ...(ignored.length > 0 ? { ignored } : {}),
    });
    return reply
      .status(202)
      .header('content-location', `${base(req)}/fhir/$export-status/${job.id}`)
      .send();
  };
  app.get('/fhir/$export', kickOff('system'));
  app.get('/fhir/Patient/$export', kickOff('patient'));
  app.post('/fhir/$export', kickOff('system'));
  app.post('/fhir/Patient/$export', kickOff('patient'));
  // Group level: the Group's members the requester may see (bulk/exportRead.ts), nobody else.
  app.get('/fhir/Group/:id/$export', kickOff('group'));
  app.post('/fhir/Group/:id/$export', kickOff('group'));

  app.get<{ Params: { id: string } }>('/fhir/$export-status/:id', async (req, reply) => {
    const job = await cw.exports.status(requireWho(req), req.params.id);
    if (job.status === 'awaiting-approval' || job.status === 'running') {
      return reply
        .status(202)
        .header('x-progress', job.status === 'running' ? 'running' : 'awaiting approval by a privacy officer or security admin')
        .header('retry-after', '5')
        .send();
    }
    if (job.status === 'rejected') throw new FhirError(403, 'forbidden', `the export was rejected by ${job.decidedBy}`);
    if (job.status === 'cancelled') throw new FhirError(404, 'not-found', 'the export was cancelled');
    if (job.status === 'failed') throw new FhirError(500, 'exception', job.error ?? 'the export failed');
    return reply.header('expires', new Date(job.expiresAt!).toUTCString()).send({
      transactionTime: job.transactionTime,
      request:
        job.request ??
        `${base(req)}/fhir/${job.level === 'patient' ? 'Patient/' : job.level === 'group' ? `Group/${job.group}/` : ''}$export?_type=${job.types.join(',')}`,
      requiresAccessToken: true,
      output: job.files.map((f) => ({ type: f.type, url: `${base(req)}/fhir/$export-file/${job.id}/${f.seq}`, count: f.count })),
      // File 0: what was ignored at the client's request (bulk/lenient.ts).
      error: job.ignored ? [{ type: 'OperationOutcome', url: `${base(req)}/fhir/$export-file/${job.id}/0` }] : [],
    });
  });

  // Cancelling (Bulk Data: DELETE on the status URL): 202, the files gone, the approval request withdrawn.
  app.delete<{ Params: { id: string } }>('/fhir/$export-status/:id', async (req, reply) => {
    await cw.exports.cancel(requireWho(req), req.params.id);
    return reply.status(202).send();
  });

  app.get<{ Params: { id: string; seq: string } }>('/fhir/$export-file/:id/:seq', async (req, reply) => {
    const seq = Number(req.params.seq);
    if (!Number.isInteger(seq) || seq < 0) throw new FhirError(404, 'not-found', 'no such export file');
    if (seq === 0) return reply.type('application/fhir+ndjson').send(await cw.exports.errors(requireWho(req), req.params.id));
    const file = await cw.exports.file(requireWho(req), req.params.id, seq);
    return reply.type('application/fhir+ndjson').send(file.body);
  });

  app.get<{ Querystring: { status?: ExportStatus } }>('/api/exports', async (req) => ({ jobs: await cw.exports.list(requireWho(req), req.query.status) }));
  // One job: its requester and those who approve exports see its state and, once run, what it holds.
  app.get<{ Params: { id: string } }>('/api/exports/:id', async (req) => cw.exports.status(requireWho(req), req.params.id));
  for (const [path, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    app.post<{ Params: { id: string }; Body: { note?: unknown } }>(`/api/exports/:id/${path}`, async (req) => {
      const note = typeof req.body?.note === 'string' ? req.body.note : undefined;
      return cw.exports.decide(requireWho(req), req.params.id, approve, note);
    });
  }
}
