/**
 * /updates/classes, /updates/engineers, /updates/vendors, /updates/releases: the people's side of
 * the equipment update repository (docs/updates.md, "Releasing over the console"). Thin: each
 * route hands the caller and the body to the release pipeline, which decides and records.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import {
  EngineerAssignBody,
  ClassEngineerParams,
  ClassParams,
  DelegationProposal,
  DeviceClassBody,
  DeviceClassList,
  EngineerKeyBody,
  KeyRegistered,
  LabSignoffBody,
  Release,
  ReleaseBody,
  ReleaseIdParams,
  ReleaseList,
  SignatureAdded,
  SignatureBody,
  VendorKeyBody,
  VendorKeyList,
  WithdrawBody,
} from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { FhirError } from '../shared/index.js';
import { parseSignatureFile, ReleaseRefused } from '../updates/index.js';
import { requireWho } from './server.js';

/** The largest image accepted: equipment firmware and service packs run to a few hundred megabytes. */
export const IMAGE_LIMIT_BYTES = 2 * 1024 ** 3;

const refusal = (err: unknown) => (err instanceof ReleaseRefused ? new FhirError(err.status, err.status === 403 ? 'forbidden' : 'invalid', err.message) : err);

export async function registerReleaseRoutes(app: FastifyInstance, cw: Pick<Carewall, 'releases' | 'updates'>): Promise<void> {
  const pipe = cw.releases;
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      throw refusal(err);
    }
  };

  // ---- classes and their engineers ----

  app.get<{ Reply: DeviceClassList }>('/updates/classes', { schema: { response: { 200: DeviceClassList } } }, async (req) => {
    requireReader(req);
    return pipe.engineers.classes();
  });

  app.post<{ Body: DeviceClassBody }>('/updates/classes', { schema: { body: DeviceClassBody } }, async (req, reply) => {
    await run(() => pipe.engineers.addClass(requireWho(req), req.body.name, req.body.lifeCritical));
    return reply.status(201).send({ created: true });
  });

  app.post<{ Params: ClassParams; Body: EngineerAssignBody }>(
    '/updates/classes/:class/engineers',
    { schema: { params: ClassParams, body: EngineerAssignBody } },
    async (req, reply) => {
      await run(() => pipe.engineers.assign(requireWho(req), req.params.class, req.body.username));
      return reply.status(201).send({ assigned: true });
    },
  );

  app.delete<{ Params: ClassEngineerParams }>(
    '/updates/classes/:class/engineers/:username',
    { schema: { params: ClassEngineerParams } },
    async (req, reply) => {
      await run(() => pipe.engineers.unassign(requireWho(req), req.params.class, req.params.username));
      return reply.status(204).send();
    },
  );

  app.post<{ Params: ClassParams; Reply: DelegationProposal }>(
    '/updates/classes/:class/delegation',
    { schema: { params: ClassParams, response: { 201: DelegationProposal } } },
    async (req, reply) => reply.status(201).send(await run(() => pipe.proposeDelegation(requireWho(req), req.params.class))),
  );

  // A root or targets key holder's signature, carried in by an admin (class releases are approved below).
  app.post<{ Body: SignatureBody; Reply: SignatureAdded }>(
    '/updates/signatures',
    { schema: { body: SignatureBody, response: { 200: SignatureAdded } } },
    async (req) => {
      const who = requireWho(req);
      if (!who.roles.some((r) => r === 'admin' || r === 'security-admin'))
        throw new FhirError(403, 'forbidden', 'root and targets signatures are added by an admin or security admin');
      if (req.body.role !== 'root' && req.body.role !== 'targets')
        throw new FhirError(400, 'invalid', "a class release's signatures are its engineers' approvals (/updates/releases/{id}/approvals)");
      const sig = parseSignatureFile(JSON.stringify(req.body), 'the signature');
      return run(async () => {
        try {
          return await cw.updates.addSignature(sig);
        } catch (err) {
          throw new ReleaseRefused(409, (err as Error).message);
        }
      });
    },
  );

  app.put<{ Body: EngineerKeyBody; Reply: KeyRegistered }>(
    '/updates/engineers/me/key',
    { schema: { body: EngineerKeyBody, response: { 200: KeyRegistered } } },
    async (req) => run(() => pipe.engineers.registerKey(requireWho(req), JSON.stringify(req.body))),
  );

  // ---- vendors ----

  app.get<{ Reply: VendorKeyList }>('/updates/vendors', { schema: { response: { 200: VendorKeyList } } }, async (req) => {
    requireReader(req);
    return pipe.vendorKeys();
  });

  app.post<{ Body: VendorKeyBody; Reply: KeyRegistered }>(
    '/updates/vendors',
    { schema: { body: VendorKeyBody, response: { 201: KeyRegistered } } },
    async (req, reply) => reply.status(201).send(await run(() => pipe.addVendorKey(requireWho(req), req.body.vendor, req.body.publicKeyPem))),
  );

  // ---- releases ----

  app.get<{ Reply: ReleaseList }>('/updates/releases', { schema: { response: { 200: ReleaseList } } }, async (req) => run(() => pipe.list(requireWho(req))));

  app.post<{ Body: ReleaseBody; Reply: Release }>('/updates/releases', { schema: { body: ReleaseBody, response: { 201: Release } } }, async (req, reply) =>
    reply.status(201).send(await run(() => pipe.create(requireWho(req), req.body))),
  );

  app.get<{ Params: ReleaseIdParams; Reply: Release }>(
    '/updates/releases/:id',
    { schema: { params: ReleaseIdParams, response: { 200: Release } } },
    async (req) => run(() => pipe.get(requireWho(req), req.params.id)),
  );

  // The image: streamed to a private temporary file (never held in memory), checked, then kept.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.put<{ Params: ReleaseIdParams; Reply: Release }>(
      '/updates/releases/:id/image',
      { bodyLimit: IMAGE_LIMIT_BYTES, schema: { params: ReleaseIdParams, response: { 200: Release } } },
      async (req) => {
        const who = requireWho(req);
        if (!(req.body instanceof Object) || typeof (req.body as NodeJS.ReadableStream).pipe !== 'function')
          throw new FhirError(415, 'invalid', 'send the image as application/octet-stream');
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-image-'));
        try {
          const file = path.join(dir, 'image');
          let seen = 0;
          const limit = new Transform({
            transform(chunk: Buffer, _enc, next) {
              seen += chunk.length;
              next(seen > IMAGE_LIMIT_BYTES ? new FhirError(413, 'too-costly', 'the image is larger than accepted') : null, chunk);
            },
          });
          await pipeline(req.body as NodeJS.ReadableStream, limit, fs.createWriteStream(file, { mode: 0o600 }));
          if (seen === 0) throw new FhirError(400, 'invalid', 'the image is empty');
          return await run(() => pipe.putImage(who, req.params.id, file));
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });

  app.put<{ Params: ReleaseIdParams; Body: Record<string, unknown>; Reply: Release }>(
    '/updates/releases/:id/sbom',
    { schema: { params: ReleaseIdParams, body: { type: 'object' }, response: { 200: Release } } },
    async (req) => run(() => pipe.putSbom(requireWho(req), req.params.id, req.body)),
  );

  app.post<{ Params: ReleaseIdParams; Body: LabSignoffBody; Reply: Release }>(
    '/updates/releases/:id/lab-signoff',
    { schema: { params: ReleaseIdParams, body: LabSignoffBody, response: { 200: Release } } },
    async (req) => run(() => pipe.labSignoff(requireWho(req), req.params.id, req.body)),
  );

  app.get<{ Params: ReleaseIdParams }>('/updates/releases/:id/unsigned', { schema: { params: ReleaseIdParams } }, async (req, reply) => {
    const text = await run(() => pipe.unsigned(requireWho(req), req.params.id));
    // Plain text: the file is handed on as it is, to be signed offline, not read by the console.
    return reply.type('text/plain; charset=utf-8').header('content-disposition', 'attachment; filename="release.unsigned.json"').send(text);
  });

  app.post<{ Params: ReleaseIdParams; Body: SignatureBody; Reply: Release }>(
    '/updates/releases/:id/approvals',
    { schema: { params: ReleaseIdParams, body: SignatureBody, response: { 200: Release } } },
    async (req) => run(() => pipe.approve(requireWho(req), req.params.id, JSON.stringify(req.body))),
  );

  app.post<{ Params: ReleaseIdParams; Body: WithdrawBody; Reply: Release }>(
    '/updates/releases/:id/withdraw',
    { schema: { params: ReleaseIdParams, body: WithdrawBody, response: { 200: Release } } },
    async (req) => run(() => pipe.withdraw(requireWho(req), req.params.id, req.body.reason)),
  );
}

/** Classes and vendor keys are shown to the people who work with them. */
function requireReader(req: Parameters<typeof requireWho>[0]): void {
  const who = requireWho(req);
  if (!who.roles.some((r) => ['biomedical-engineer', 'security-admin', 'admin', 'privacy-officer'].includes(r)))
    throw new FhirError(403, 'forbidden', 'shown to engineers and officers');
}
