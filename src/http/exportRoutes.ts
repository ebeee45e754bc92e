/**
 * FHIR Bulk Data export: kick-off (`GET /fhir/$export`, `GET /fhir/Patient/$export`), status
 * (`GET /fhir/$export-status/{id}`), download (`GET /fhir/$export-file/{id}/{n}`), and the second
 * person's decision (`/api/exports`). A thin shell over bulk/export.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExportStatus } from '../bulk/index.js';
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

export async function registerExportRoutes(app: FastifyInstance, cw: Pick<Carewall, 'exports'>): Promise<void> {
  const base = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

  const kickOff = (level: 'system' | 'patient') => async (req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const who = requireWho(req);
    if (!/respond-async/.test(String(req.headers.prefer ?? ''))) throw new FhirError(400, 'invalid', 'a bulk export needs the header Prefer: respond-async');
    const format = last(req.query._outputFormat);
    if (format && !NDJSON_FORMATS.includes(format)) throw new FhirError(400, 'not-supported', '_outputFormat must be application/fhir+ndjson');
    if (level === 'system' && req.query.patient) throw new FhirError(400, 'invalid', 'patient applies to Patient/$export only');
    const job = await cw.exports.request(who, {
      level,
      types: list(req.query._type),
      since: last(req.query._since),
      ...(req.query.patient ? { patients: list(req.query.patient) } : {}),
    });
    return reply
      .status(202)
      .header('content-location', `${base(req)}/fhir/$export-status/${job.id}`)
      .send();
  };
  app.get('/fhir/$export', kickOff('system'));
  app.get('/fhir/Patient/$export', kickOff('patient'));

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
    if (job.status === 'failed') throw new FhirError(500, 'exception', job.error ?? 'the export failed');
    return reply.header('expires', new Date(job.expiresAt!).toUTCString()).send({
      transactionTime: job.transactionTime,
      request: `${base(req)}/fhir/${job.level === 'patient' ? 'Patient/' : ''}$export?_type=${job.types.join(',')}`,
      requiresAccessToken: true,
      output: job.files.map((f) => ({ type: f.type, url: `${base(req)}/fhir/$export-file/${job.id}/${f.seq}`, count: f.count })),
      error: [],
    });
  });

  app.get<{ Params: { id: string; seq: string } }>('/fhir/$export-file/:id/:seq', async (req, reply) => {
    const seq = Number(req.params.seq);
    if (!Number.isInteger(seq) || seq < 1) throw new FhirError(404, 'not-found', 'no such export file');
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
