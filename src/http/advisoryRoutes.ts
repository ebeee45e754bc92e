/**
 * /advisories: CSAF advisories matched to the equipment (docs/advisories.md). Biomedical engineers
 * import and decide; security admins read. Thin: the advisory service decides and records.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AdvisoryList, DeviceAdvisories } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';

const Decision = Type.Object(
  {
    advisory: Type.String({ maxLength: 200 }),
    device: Type.String({ maxLength: 64 }),
    productId: Type.String({ maxLength: 200 }),
    decision: Type.Union([Type.Literal('confirmed'), Type.Literal('rejected')]),
    note: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);
const Vex = Type.Object(
  {
    advisory: Type.String({ maxLength: 200 }),
    vulnerability: Type.String({ maxLength: 200 }),
    device: Type.String({ maxLength: 64 }),
    status: Type.Union([Type.Literal('affected'), Type.Literal('not_affected'), Type.Literal('fixed'), Type.Literal('under_investigation')]),
    justification: Type.Optional(Type.String({ maxLength: 100 })),
    note: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);
const FixedBy = Type.Object({ target: Type.String({ maxLength: 200 }) }, { additionalProperties: false });

export async function registerAdvisoryRoutes(app: FastifyInstance, cw: Pick<Carewall, 'advisories'>): Promise<void> {
  app.post('/advisories', { bodyLimit: 8 * 1024 * 1024 }, async (req, reply) => reply.status(201).send(await cw.advisories.import(requireWho(req), req.body)));
  app.get<{ Reply: AdvisoryList }>('/advisories', { schema: { response: { 200: AdvisoryList } } }, async (req) => cw.advisories.list(requireWho(req)));
  app.get<{ Params: { id: string }; Reply: DeviceAdvisories }>('/advisories/devices/:id', { schema: { response: { 200: DeviceAdvisories } } }, async (req) => ({
    advisories: await cw.advisories.forDevice(requireWho(req), req.params.id),
    history: await cw.advisories.vexHistory(requireWho(req), req.params.id),
  }));
  app.post<{ Body: Static<typeof Decision> }>('/advisories/decisions', { schema: { body: Decision } }, async (req, reply) => {
    await cw.advisories.decide(requireWho(req), req.body);
    return reply.status(204).send();
  });
  app.post<{ Body: Static<typeof Vex> }>('/advisories/vex', { schema: { body: Vex } }, async (req, reply) => {
    await cw.advisories.setVex(requireWho(req), req.body);
    return reply.status(204).send();
  });
  app.post<{ Params: { id: string }; Body: Static<typeof FixedBy> }>('/advisories/:id/fixed-by', { schema: { body: FixedBy } }, async (req, reply) => {
    await cw.advisories.linkFix(requireWho(req), req.params.id, req.body.target);
    return reply.status(204).send();
  });
}
