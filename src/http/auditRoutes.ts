/**
 * /api/audit: the audit log for outside verifiers (contract in the README): the latest signed
 * checkpoint exactly as signed, the verifier key, a record with its exact leaf bytes, and RFC 9162
 * inclusion and consistency proofs. Readable by privacy officers and security admins; every query
 * is itself a record in the log.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize, decide, isAuditorClient, type AdminAction } from '../access/index.js';
import { type Who } from '../shared/index.js';
import { auditUser, parseAuditSearch, parseTilePath, toAuditEvent } from '../audit/index.js';
import type { AuditRecord } from '../audit/index.js';
import { FhirError } from '../shared/index.js';
import { AccessReport, AccessReportQuery, type IdParams, type ReportLine } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import { requireWho } from './server.js';

export async function registerAuditRoutes(app: FastifyInstance, cw: Pick<Carewall, 'audit' | 'identity'>): Promise<void> {
  const audit = cw.audit;
  /** Authorises, and records the query of the log in the log. */
  const reader = async (req: FastifyRequest, what: string, permission: AdminAction = 'audit.read', patient?: string): Promise<Who> => {
    const who = requireWho(req);
    const user = auditUser(who);
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : undefined;
    try {
      authorize(who, permission);
    } catch (err) {
      await audit.record({
        action: `audit.${what}`,
        outcome: 'denied',
        user,
        request: who.request,
        patient,
        query,
        explanation: { reason: (err as Error).message },
      });
      throw err;
    }
    await audit.record({ action: `audit.${what}`, outcome: 'success', user, request: who.request, patient, query });
    return who;
  };

  // IHE BALP AuditEvents for privacy officers. Registered before the generic /fhir/:type routes
  // take the path (Fastify prefers static segments).
  app.get<{ Querystring: Record<string, string | string[]> }>('/fhir/AuditEvent', async (req, reply) => {
    const filter = parseAuditSearch(req.query);
    await reader(req, 'events', 'audit.events', filter.patient);
    const { total, entries } = await audit.search(filter);
    const base = `${req.protocol}://${req.host}/fhir/AuditEvent`;
    const page = (offset: number) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) for (const x of Array.isArray(v) ? v : [v]) if (k !== '_offset') q.append(k, x);
      q.set('_offset', String(offset));
      return `${base}?${q}`;
    };
    const link = [{ relation: 'self', url: page(filter.offset) }];
    if (filter.offset + entries.length < total && filter.count > 0) link.push({ relation: 'next', url: page(filter.offset + filter.count) });
    return reply.type('application/fhir+json').send({
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link,
      // FHIR JSON has no empty arrays: a count alone, or no match, is a bundle without entries.
      ...(entries.length > 0
        ? { entry: entries.map((e) => ({ fullUrl: `${base}/${e.index}`, resource: toAuditEvent(e.index, e.record), search: { mode: 'match' } })) }
        : {}),
    });
  });

  app.get<{ Params: { id: string } }>('/fhir/AuditEvent/:id', async (req, reply) => {
    await reader(req, 'events', 'audit.events');
    const index = /^\d{1,15}$/.test(req.params.id) ? Number(req.params.id) : -1;
    const entry = index >= 0 ? await audit.entry(index) : undefined;
    if (!entry) throw new FhirError(404, 'not-found', 'no such AuditEvent');
    return reply.type('application/fhir+json').send(toAuditEvent(entry.index, entry.record));
  });

  // Who accessed this patient's record, when, in which role and why: the patient's right of
  // access (HIPAA accounting of disclosures, GDPR art. 15). Audit log queries are not accesses
  // to the chart and are left out.
  const report = { querystring: AccessReportQuery, response: { 200: AccessReport } };
  app.get<{ Params: IdParams; Querystring: AccessReportQuery; Reply: AccessReport }>('/api/patients/:id/access-report', { schema: report }, async (req) => {
    const patient = req.params.id.replace(/^Patient\//, '');
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(patient)) throw new FhirError(400, 'invalid', 'the patient id is malformed');
    const dates: string[] = [];
    if (req.query.from) dates.push(`ge${req.query.from}`);
    if (req.query.to) dates.push(`le${req.query.to}`);
    const filter = parseAuditSearch(dates.length > 0 ? { date: dates } : {});
    const who = await reader(req, 'access-report', 'audit.events', patient);
    // Staff by the names the patient knows them by (the directory's), for those who may read it.
    const names = new Map<string, string>();
    if (decide(who, 'staff.directory').allowed) for (const m of await cw.identity.staffDirectory(who)) names.set(m.username, m.name);
    const accesses: ReportLine[] = [];
    for (let offset = 0; ; offset += 1000) {
      const { entries } = await audit.search({ ...filter, patient, count: 1000, offset, actions: REPORTED_ACTIONS });
      accesses.push(...entries.map((e) => reportLine(e.index, e.record, names)));
      if (entries.length < 1000) break;
    }
    const byUser = new Map<string, AccessReport['byUser'][number]>();
    for (const a of accesses) {
      const u = byUser.get(a.user) ?? {
        user: a.user,
        ...(a.userName ? { userName: a.userName } : {}),
        practitioner: a.practitioner,
        roles: a.roles,
        accesses: 0,
        refused: 0,
        first: a.time,
        last: a.time,
      };
      if (a.outcome === 'success') u.accesses++;
      else u.refused++;
      u.last = a.time;
      byUser.set(a.user, u);
    }
    return {
      patient: `Patient/${patient}`,
      generated: new Date().toISOString(),
      period: { from: filter.from ?? null, to: filter.to ?? null },
      total: accesses.length,
      byUser: [...byUser.values()],
      accesses,
    };
  });

  // The log as C2SP tlog-tiles (src/audit/tlogTiles.ts): the checkpoint with its witnesses'
  // cosignatures, hash tiles and entry bundles. Readers: privacy officers and auditor clients (a
  // client registered with system/AuditEvent.read, for an outside verifier or witness); security
  // administrators too for the checkpoint and hashes, which name nobody. Fetches are counted, not
  // recorded one by one; a refusal is recorded.
  const tileReader = async (req: FastifyRequest, kind: 'checkpoint' | 'hash' | 'entries'): Promise<void> => {
    const who = requireWho(req);
    const user = auditUser(who);
    const roles = kind === 'entries' ? ['privacy-officer'] : ['privacy-officer', 'security-admin'];
    if (!isAuditorClient(who) && !who.roles.some((r) => roles.includes(r))) {
      await audit.record({ action: 'audit.tiles', outcome: 'denied', user, request: who.request, explanation: { reason: `reading ${kind} tiles` } });
      throw new FhirError(403, 'forbidden', 'access denied');
    }
    audit.countTileRead(user, kind);
  };
  app.get('/audit/log/checkpoint', async (req, reply) => {
    await tileReader(req, 'checkpoint');
    const note = (await audit.checkpoints.cosigned()) ?? (await audit.checkpoints.checkpoint());
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(note);
  });
  app.get<{ Params: { '*': string } }>('/audit/log/tile/*', async (req, reply) => {
    const tile = parseTilePath(req.params['*']);
    await tileReader(req, tile?.kind ?? 'hash');
    const bytes = tile ? await audit.tile(tile) : undefined;
    if (!bytes) throw new FhirError(404, 'not-found', 'no such tile (yet)');
    // A tile never changes once it exists (a partial one holds the first hashes of the full one).
    return reply.type('application/octet-stream').header('cache-control', 'private, max-age=31536000, immutable').send(bytes);
  });

  app.get('/api/audit/checkpoint', async (req, reply) => {
    await reader(req, 'checkpoint');
    const note = await audit.checkpoints.checkpoint();
    return reply.type('text/plain; charset=utf-8').send(note);
  });

  app.get('/api/audit/vkey', async (req, reply) => {
    await reader(req, 'vkey');
    return reply.type('text/plain; charset=utf-8').send(await audit.checkpoints.verifierKey());
  });

  app.get<{ Params: { index: string } }>('/api/audit/records/:index', async (req) => {
    await reader(req, 'record');
    const index = count('index', req.params.index);
    const entry = await audit.entry(index);
    if (!entry) throw new FhirError(404, 'not-found', 'no audit record at that index');
    return { index, leaf: entry.leaf.toString('base64'), record: entry.record };
  });

  app.get<{ Querystring: { index?: string; size?: string } }>('/api/audit/proof/inclusion', async (req) => {
    await reader(req, 'proof');
    const index = count('index', req.query.index);
    const size = count('size', req.query.size);
    const head = await audit.log.head();
    if (index >= size || size > head.size) throw new FhirError(400, 'invalid', 'need 0 <= index < size <= the size of the log');
    return { hashes: (await audit.log.inclusionProof(index, size)).map((h) => h.toString('base64')) };
  });

  app.get<{ Querystring: { from?: string; to?: string } }>('/api/audit/proof/consistency', async (req) => {
    await reader(req, 'proof');
    const from = count('from', req.query.from);
    const to = count('to', req.query.to);
    const head = await audit.log.head();
    if (from < 1 || from > to || to > head.size) throw new FhirError(400, 'invalid', 'need 1 <= from <= to <= the size of the log');
    return { hashes: (await audit.log.consistencyProof(from, to)).map((h) => h.toString('base64')) };
  });
}

function count(name: string, value: string | undefined): number {
  if (value === undefined || !/^\d{1,15}$/.test(value)) throw new FhirError(400, 'invalid', `${name} must be a whole number`);
  return Number(value);
}

/** What touches a patient's record (reads, searches, writes, exports, prints, grants on it). */
const REPORTED_ACTIONS = [
  'read',
  'vread',
  'search',
  'history',
  'create',
  'update',
  'delete',
  'export',
  'print',
  'break-glass.start',
  'break-glass.review',
  'investigation.start',
  'investigation.review',
  'flagged-access.review',
];

/** One line of an access report: who, when, in which role, what, and why in words. */
function reportLine(index: number, r: AuditRecord, names: Map<string, string>): ReportLine {
  const ex = (r.explanation ?? {}) as { reason?: string; basis?: string; relationships?: Array<{ kind: string; source: string }>; grantId?: string };
  const ways = (ex.relationships ?? []).map((rel) => `${rel.kind} (${rel.source})`);
  const userName = r.user?.username ? names.get(r.user.username) : undefined;
  return {
    record: index,
    time: r.time,
    user: r.user?.username ?? 'unknown',
    ...(userName ? { userName } : {}),
    ...(ex.relationships?.length ? { relationships: [...new Set(ex.relationships.map((rel) => rel.kind))] } : {}),
    practitioner: r.user?.practitioner,
    roles: r.user?.roles ?? [],
    action: r.action,
    resource: r.resource?.id ? `${r.resource.type}/${r.resource.id}${r.resource.version ? `/_history/${r.resource.version}` : ''}` : r.resource?.type,
    outcome: r.outcome,
    purposeOfUse: r.purposeOfUse,
    why: ways.length > 0 ? ways.join('; ') : (ex.reason ?? ''),
    ...(ex.basis ? { basis: ex.basis } : {}),
    ...(ex.grantId ? { grant: ex.grantId } : {}),
  };
}
