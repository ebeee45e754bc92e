/**
 * What the web console needs beyond the FHIR API and the administrative routes: who the caller is,
 * "my patients" with the reason each is on the list, a clinician's emergency look-up of any patient, resetting a second factor, the audit log's
 * health; and the console's own files (built by Vite into dist/web), with the single-page app's
 * paths answered by its index.html.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { authorize } from '../access/index.js';
import { auditUser } from '../audit/index.js';
import type { Grounds } from '../access/index.js';
import {
  AuditVerification,
  Me,
  MyPatients,
  MyPatientsQuery,
  PatientIdentifyQuery,
  PatientLookup,
  PatientLookupQuery,
  SecondFactorReset,
  type UsernameParams,
} from '../api/index.js';
import { FhirError, writtenName } from '../shared/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';
import { toApiError } from './sessionRoutes.js';

/** dist/web beside dist/http (built), or the same folder from src/http (tests under tsx). */
export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'web');

const KIND_WORDS: Record<string, string> = {
  'care-team': 'care team',
  encounter: 'encounter',
  ward: 'on your ward',
  appointment: 'appointment',
  'general-practitioner': 'general practitioner',
  'service-request': 'order',
  'episode-of-care': 'episode of care',
};

/** A role's reach across the clinic (no care relationship needed), as its holder reads it. */
const REACH_WORDS: Record<string, string> = {
  'front-desk': "the clinic's patients, for the front desk",
  billing: "the clinic's patients, for billing",
  lab: "the clinic's patients, for the lab's orders",
  investigation: 'a privacy investigation',
  registration: 'you registered this patient',
};

/** Why a patient is on the caller's list, in words a clinician reads at a glance. */
export function reasonsOf(grounds: Grounds | undefined, reason: string): string[] {
  if (!grounds) return [reason];
  if (grounds.basis === 'break-glass') return ['emergency access (break-the-glass)'];
  if (grounds.basis === 'relationship' && grounds.relationships?.length) {
    return [...new Set(grounds.relationships.map((r) => KIND_WORDS[r.kind] ?? r.kind))];
  }
  const reach = REACH_WORDS[grounds.basis === 'registration' ? 'registration' : (grounds.roleScope ?? '')];
  return [reach ?? reason];
}

/** The server's own paths, with or without a query: never the console's page or its headers. */
const API_PATHS = /^\/(api|fhir|auth|updates|aw|audit)(\/|\?|$)/;

export async function registerConsoleRoutes(app: FastifyInstance, cw: Pick<Carewall, 'access' | 'audit' | 'fhir' | 'identity' | 'settings'>): Promise<void> {
  // Each route's answer is its schema's (src/api), which the console checks it against.
  app.get<{ Reply: Me }>('/api/me', { schema: { response: { 200: Me } } }, async (req) => {
    const who = requireWho(req);
    return {
      username: who.username,
      name: await cw.identity.ownName(who),
      roles: who.roles,
      practitioner: who.practitioner ?? null,
      idleMinutes: cw.settings.sessionIdleMinutes,
    };
  });

  const myPatients = { querystring: MyPatientsQuery, response: { 200: MyPatients } };
  app.get<{ Querystring: MyPatientsQuery; Reply: MyPatients }>('/api/my-patients', { schema: myPatients }, async (req) => {
    const who = requireWho(req);
    const count = Math.min(100, Math.max(1, Number(req.query.count ?? 25)));
    const offset = Number(req.query.offset ?? 0);
    const query: Record<string, string[]> = { _count: [String(count)], _offset: [String(offset)] };
    if (req.query.name) query.name = [req.query.name];
    const url = new URL(`http://console${req.url}`);
    // The search runs under the caller's access rules (and records each patient it returns).
    const bundle = await cw.fhir.search(who, 'Patient', query, url);
    const patients = (bundle.entry ?? []).map(
      (e) =>
        e.resource as { id: string; name?: Array<{ use?: string; text?: string; family?: string; given?: string[] }>; birthDate?: string; gender?: string },
    );
    const decisions = await cw.access.decideMany(
      who,
      'read',
      'read',
      patients.map((p) => ({ resourceType: 'Patient', id: p.id, patientId: p.id, labels: [] })),
    );
    return {
      total: bundle.total ?? patients.length,
      patients: patients.map((p, i) => ({
        id: p.id,
        name: writtenName(p.name) ?? '',
        birthDate: p.birthDate ?? null,
        gender: p.gender ?? null,
        why: reasonsOf(decisions[i].grounds, decisions[i].reason),
      })),
    };
  });

  // A clinician's emergency look-up of anyone: who they are, never their chart (records/identify.ts).
  const lookup = { querystring: PatientLookupQuery, response: { 200: PatientLookup } };
  app.get<{ Querystring: PatientLookupQuery; Reply: PatientLookup }>('/api/patients/lookup', { schema: lookup }, async (req, reply) => {
    const who = requireWho(req);
    reply.header('cache-control', 'no-store');
    return { patients: await cw.fhir.identify(who, req.query.q) };
  });

  // The patients of an audit search's page by name, for those who may identify patients (the same rule
  // and the same 'lookup' record per patient named as the look-up); ids that name no patient are left out.
  const identify = { querystring: PatientIdentifyQuery, response: { 200: PatientLookup } };
  app.get<{ Querystring: PatientIdentifyQuery; Reply: PatientLookup }>('/api/patients/identify', { schema: identify }, async (req, reply) => {
    const who = requireWho(req);
    reply.header('cache-control', 'no-store');
    return { patients: await cw.fhir.identifyById(who, req.query.ids.split(',')) };
  });

  const secondFactor = { response: { 201: SecondFactorReset } };
  app.post<{ Params: UsernameParams; Reply: SecondFactorReset }>('/api/users/:username/second-factor', { schema: secondFactor }, async (req, reply) => {
    const who = requireWho(req);
    authorize(who, 'user.create');
    const account = await cw.identity.describeAccount(req.params.username);
    if (!account) throw new FhirError(404, 'not-found', 'no such account');
    let uri: string;
    try {
      uri = await cw.identity.enrollTotp(account.who.accountId, { who });
    } catch (err) {
      throw toApiError(err);
    }
    reply.header('cache-control', 'no-store');
    return reply.status(201).send({ username: account.who.username, totpUri: uri });
  });

  // Runs `carewall audit verify` in the server, for the console's log health panel.
  app.post<{ Reply: AuditVerification }>('/api/audit/verify', { schema: { response: { 200: AuditVerification } } }, async (req) => {
    const who = requireWho(req);
    authorize(who, 'audit.read');
    const started = Date.now();
    const report = await cw.audit.verifyAndRecord(auditUser(who), [], who.request);
    const latest = await cw.audit.checkpoints.latest();
    return {
      ok: report.ok,
      size: report.size,
      checkpointsChecked: report.checkpointsChecked,
      firstBadIndex: report.firstBadIndex ?? null,
      problems: report.problems.slice(0, 10).map((p) => p.message),
      seconds: (Date.now() - started) / 1000,
      at: new Date().toISOString(),
      latestCheckpointSize: latest?.size ?? 0,
    };
  });

  if (fs.existsSync(path.join(WEB_ROOT, 'index.html'))) {
    // The console runs only its own scripts, talks only to this server, and is never framed.
    app.addHook('onSend', async (req, reply) => {
      if (API_PATHS.test(req.url)) return;
      reply.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    });
    await app.register(fastifyStatic, {
      root: WEB_ROOT,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
    });
    // The console's own routes (/patients/123, /privacy/...) are pages of the one app.
    app.get('/*', (req, reply) => {
      // The API's paths, with or without a query, are never the console: their own unknown-path answer (FHIR's is an OperationOutcome).
      if (API_PATHS.test(req.url)) return reply.callNotFound();
      return reply.header('cache-control', 'no-store').sendFile('index.html');
    });
  }
}
