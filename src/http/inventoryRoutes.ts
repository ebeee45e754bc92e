/**
 * /inventory: the equipment inventory for biomedical engineers (docs/inventory.md). Thin: the
 * inventory service checks the caller's role (and records a refusal), then writes through the
 * records service, whose access rules decide again.
 */
import type { FastifyInstance } from 'fastify';
import { Fleet, ImportResult, ReleaseIdParams } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { FhirError } from '../shared/index.js';
import { requireWho } from './server.js';

export async function registerInventoryRoutes(app: FastifyInstance, cw: Pick<Carewall, 'inventory'>): Promise<void> {
  app.get<{ Reply: Fleet }>('/inventory/devices', { schema: { response: { 200: Fleet } } }, async (req) => cw.inventory.fleet(requireWho(req)));

  await app.register(async (scope) => {
    // CSV and the MDS2 form arrive as they are; JSON (a FHIR Bundle, a CycloneDX BOM) as JSON.
    scope.addContentTypeParser(['text/csv', 'application/pdf', 'application/octet-stream'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    scope.post<{ Reply: ImportResult }>('/inventory/import', { schema: { response: { 200: ImportResult } } }, async (req) => {
      const who = requireWho(req);
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
      if (type === 'text/csv') return cw.inventory.importCsv(who, (req.body as Buffer).toString('utf8'));
      const body = req.body as { bomFormat?: unknown; resourceType?: unknown } | null;
      if (body?.bomFormat === 'CycloneDX') return cw.inventory.importCycloneDx(who, body);
      if (body?.resourceType === 'Bundle') return cw.inventory.importFhir(who, body);
      throw new FhirError(415, 'invalid', 'send text/csv, a CycloneDX BOM or a FHIR Bundle (application/json)');
    });

    scope.put<{ Params: ReleaseIdParams }>('/inventory/models/:id/sbom', { schema: { params: ReleaseIdParams } }, async (req, reply) => {
      const who = requireWho(req);
      await cw.inventory.attach(who, req.params.id, 'sbom', { contentType: 'application/vnd.cyclonedx+json', data: Buffer.from(JSON.stringify(req.body)) });
      return reply.status(204).send();
    });

    scope.put<{ Params: ReleaseIdParams }>('/inventory/models/:id/mds2', { schema: { params: ReleaseIdParams } }, async (req, reply) => {
      const who = requireWho(req);
      if (!Buffer.isBuffer(req.body) || req.body.length === 0)
        throw new FhirError(415, 'invalid', 'send the MDS2 form as application/pdf or application/octet-stream');
      await cw.inventory.attach(who, req.params.id, 'mds2', { contentType: (req.headers['content-type'] ?? '').split(';')[0], data: req.body });
      return reply.status(204).send();
    });
  });
}
