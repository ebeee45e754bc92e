/**
 * /api/posture: the scorecard against HHS 405(d) HICP, its history, the next steps and the
 * attestations (docs/posture.md). Administrators and the privacy and security officers; thin: the
 * posture service decides, measures and records.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PostureAttestation, PostureAttestations, PostureHistory, PostureNext, PostureScorecard } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { FhirError } from '../shared/index.js';
import { requireWho } from './server.js';

const AttestBody = Type.Object(
  {
    item: Type.String({ maxLength: 64 }),
    status: Type.Union([Type.Literal('compliant'), Type.Literal('partial'), Type.Literal('not-applicable')]),
    note: Type.String({ maxLength: 2000 }),
    expiresAt: Type.String({ maxLength: 40 }),
    evidence: Type.Optional(
      Type.Object({ name: Type.String({ maxLength: 200 }), base64: Type.String({ maxLength: 14_000_000 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export async function registerPostureRoutes(app: FastifyInstance, cw: Pick<Carewall, 'posture'>): Promise<void> {
  app.get<{ Reply: PostureScorecard }>('/api/posture', { schema: { response: { 200: PostureScorecard } } }, async (req) =>
    cw.posture.scorecard(requireWho(req)),
  );
  app.post<{ Reply: PostureScorecard }>('/api/posture/refresh', { schema: { response: { 200: PostureScorecard } } }, async (req) =>
    cw.posture.refresh(requireWho(req)),
  );
  app.get<{ Reply: PostureHistory }>('/api/posture/history', { schema: { response: { 200: PostureHistory } } }, async (req) =>
    cw.posture.history(requireWho(req)),
  );
  app.get<{ Reply: PostureNext }>('/api/posture/next', { schema: { response: { 200: PostureNext } } }, async (req) => cw.posture.next(requireWho(req)));
  app.get<{ Reply: PostureAttestations }>('/api/posture/attestations', { schema: { response: { 200: PostureAttestations } } }, async (req) =>
    cw.posture.listAttestations(requireWho(req)),
  );
  // The evidence file behind an item's current attestation, as it was given (for an auditor or the next owner).
  app.get<{ Params: { item: string } }>('/api/posture/attestations/:item/evidence', async (req, reply) => {
    const found = await cw.posture.evidence(requireWho(req), req.params.item);
    if (!found) throw new FhirError(404, 'not-found', 'that item has no attestation with an evidence file');
    const safeName = found.name.replace(/[^\w.-]+/g, '_').slice(0, 100) || 'evidence';
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${safeName}"`)
      .header('x-evidence-sha256', found.sha256)
      .send(found.content);
  });
  app.post<{ Body: Static<typeof AttestBody>; Reply: PostureAttestation }>(
    '/api/posture/attestations',
    { bodyLimit: 16 * 1024 * 1024, schema: { body: AttestBody, response: { 201: PostureAttestation } } },
    async (req, reply) => {
      const { evidence, ...rest } = req.body;
      let content: Buffer | undefined;
      if (evidence) {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(evidence.base64)) throw new FhirError(400, 'invalid', 'evidence.base64 is not base64');
        content = Buffer.from(evidence.base64, 'base64');
      }
      return reply
        .status(201)
        .send(await cw.posture.attest(requireWho(req), { ...rest, ...(evidence && content ? { evidence: { name: evidence.name, content } } : {}) }));
    },
  );
}
