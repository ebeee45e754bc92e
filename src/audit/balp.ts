/**
 * Audit records as FHIR R4 AuditEvent resources shaped per IHE Basic Audit Log Patterns (BALP):
 * RESTful interactions (type `rest`, subtype the interaction, action C/R/U/D/E) with the user as
 * requesting agent (purpose of use, network address), the client and Carewall as source and
 * destination agents, the patient and the data as entities, the search as a query entity;
 * sign-in and sign-out as DICOM User Authentication; break-the-glass as DICOM Security Alert /
 * Emergency Override Started with purpose ETREAT; queries of the audit log as Audit Log Used.
 *
 * Written here: the mapping from Carewall's records is Carewall's own; the codes come from the
 * BALP and FHIR R4 value sets named beside each.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import { FhirError } from '../shared/index.js';
import type { AuditRecord } from './record.js';
import type { AuditSearch } from './service.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const CAREWALL_EVENT = 'https://carewall.example/fhir/CodeSystem/audit-action';
const CAREWALL_ROLE = 'https://carewall.example/fhir/CodeSystem/role';
const ACCOUNT_ID = 'https://carewall.example/fhir/NamingSystem/account';

const REST_SUBTYPE: Record<string, string> = {
  read: 'read',
  vread: 'vread',
  search: 'search-type',
  history: 'history-instance',
  create: 'create',
  update: 'update',
  delete: 'delete',
};
const ACTION_CODE: Record<string, 'C' | 'R' | 'U' | 'D' | 'E'> = {
  read: 'R',
  vread: 'R',
  history: 'R',
  search: 'E',
  create: 'C',
  update: 'U',
  delete: 'D',
};
const OUTCOME_CODE: Record<string, { code: '0' | '4' | '8'; display: string }> = {
  success: { code: '0', display: 'Success' },
  denied: { code: '4', display: 'Minor failure' },
  failure: { code: '8', display: 'Serious failure' },
};

/** The DICOM event (type, subtype) of records that are not RESTful interactions. */
function dicomEvent(action: string): { type: Coding; subtype?: Coding } {
  const auth = { system: DCM, code: '110114', display: 'User Authentication' };
  const alert = { system: DCM, code: '110113', display: 'Security Alert' };
  if (action === 'login') return { type: auth, subtype: { system: DCM, code: '110122', display: 'Login' } };
  if (action === 'logout') return { type: auth, subtype: { system: DCM, code: '110123', display: 'Logout' } };
  if (action === 'break-glass.start') return { type: alert, subtype: { system: DCM, code: '110127', display: 'Emergency Override Started' } };
  if (action.startsWith('audit.')) return { type: { system: DCM, code: '110101', display: 'Audit Log Used' } };
  if (action === 'configuration.change') return { type: alert, subtype: { system: DCM, code: '110129', display: 'Security Configuration' } };
  if (action.startsWith('user.')) return { type: alert, subtype: { system: DCM, code: '110137', display: 'User security Attributes Changed' } };
  return { type: alert, subtype: { system: CAREWALL_EVENT, code: action, display: action } };
}

/** One record (at `index` in the log) as an AuditEvent; its id is the index. */
export function toAuditEvent(index: number, r: AuditRecord): AuditEvent {
  const rest = REST_SUBTYPE[r.action];
  const event = rest
    ? { type: { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' }, subtype: { system: RESTFUL, code: rest } }
    : dicomEvent(r.action);
  const purpose = r.purposeOfUse ? [{ coding: [{ system: ACT_REASON, code: r.purposeOfUse }] }] : undefined;
  const explanation = r.explanation as { reason?: string } | undefined;

  const agents: AuditEventAgent[] = [];
  if (r.user) {
    agents.push({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' }] },
      who: {
        ...(r.user.practitioner ? { reference: r.user.practitioner } : {}),
        ...(r.user.account ? { identifier: { system: ACCOUNT_ID, value: r.user.account } } : {}),
        display: r.user.username,
      },
      ...(r.user.username ? { altId: r.user.username } : {}),
      role: (r.user.roles ?? []).map((role) => ({ coding: [{ system: CAREWALL_ROLE, code: role }] })),
      requestor: true,
      ...(r.client?.ip ? { network: { address: r.client.ip, type: r.client.ip.includes(':') ? '5' : '2' } } : {}),
      ...(purpose ? { purposeOfUse: purpose } : {}),
    } as AuditEventAgent);
  }
  if (r.client?.ip || r.client?.userAgent) {
    agents.push({
      type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
      who: { display: r.client.userAgent ?? 'client' },
      requestor: false,
      ...(r.client.ip ? { network: { address: r.client.ip, type: r.client.ip.includes(':') ? '5' : '2' } } : {}),
    } as AuditEventAgent);
  }
  agents.push({ type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: 'Carewall' }, requestor: false });

  const entities: AuditEventEntity[] = [];
  if (r.patient) {
    entities.push({
      what: { reference: `Patient/${r.patient}` },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  if (r.resource) {
    const res = r.resource;
    const ref = res.id ? `${res.type}/${res.id}${res.version ? `/_history/${res.version}` : ''}` : undefined;
    entities.push({
      ...(ref ? { what: { reference: ref } } : {}),
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
      ...(ref ? {} : { description: res.type }),
    });
  }
  if (r.query !== undefined) {
    entities.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(r.query, 'utf8').toString('base64'),
    });
  }
  if (r.explanation !== undefined) {
    // Why access was allowed (the care relationship, grant or role), or why it was refused.
    entities.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '13', display: 'Security Resource' },
      description: explanation?.reason ?? r.action,
      detail: [{ type: 'explanation', valueString: JSON.stringify(r.explanation) }],
    });
  }

  const outcome = OUTCOME_CODE[r.outcome] ?? OUTCOME_CODE.failure;
  return {
    resourceType: 'AuditEvent',
    id: String(index),
    type: event.type,
    ...(event.subtype ? { subtype: [event.subtype] } : {}),
    action: ACTION_CODE[r.action] ?? 'E',
    recorded: r.time,
    outcome: outcome.code,
    ...(r.outcome !== 'success' && explanation?.reason ? { outcomeDesc: explanation.reason } : {}),
    ...(purpose ? { purposeOfEvent: purpose } : {}),
    agent: agents,
    source: { observer: { display: 'Carewall' }, type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }] },
    ...(entities.length > 0 ? { entity: entities } : {}),
    ...(r.requestId ? { extension: [{ url: 'https://carewall.example/fhir/StructureDefinition/request-id', valueString: r.requestId }] } : {}),
  } as AuditEvent;
}

const FHIR_TO_ACTIONS: Record<string, string[]> = {
  C: ['create'],
  R: ['read', 'vread', 'history'],
  U: ['update'],
  D: ['delete'],
};
const OUTCOMES: Record<string, string> = { '0': 'success', '4': 'denied', '8': 'failure', '12': 'failure' };

/**
 * AuditEvent search parameters: patient, agent (Practitioner reference or account id), date
 * (recorded; eq/ge/gt/le/lt/sa/eb prefixes, repeatable), action (C/R/U/D/E, or a Carewall
 * action such as login or break-glass.start), outcome (0/4/8/12), subtype (a Carewall action),
 * _count and _offset. Anything else is refused: a privacy officer must not read a wider result
 * than they asked for because a parameter was silently ignored.
 */
export function parseAuditSearch(query: Record<string, string | string[] | undefined>): AuditSearch {
  const f: AuditSearch = { count: 50, offset: 0 };
  let countOnly = false;
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    const values = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== '');
    if (values.length === 0) continue;
    const one = () => {
      if (values.length > 1) throw new FhirError(400, 'invalid', `${name} may be given once`);
      return values[0];
    };
    switch (name) {
      case 'patient': {
        const id = one().replace(/^Patient\//, '');
        if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) throw new FhirError(400, 'invalid', 'patient must be Patient/<id>');
        f.patient = id;
        break;
      }
      case 'agent': {
        const v = one();
        if (!/^(Practitioner\/)?[A-Za-z0-9\-.]{1,64}$/.test(v)) throw new FhirError(400, 'invalid', 'agent must be Practitioner/<id> or an account id');
        f.agent = v;
        break;
      }
      case 'action':
      case 'subtype': {
        const actions = values
          .flatMap((v) => v.split(','))
          .flatMap((v) => {
            const code = v.replace(/^[^|]*\|/, '');
            if (name === 'action' && code in FHIR_TO_ACTIONS) return FHIR_TO_ACTIONS[code];
            if (name === 'action' && code === 'E')
              return [
                'search',
                'login',
                'logout',
                'break-glass.start',
                'break-glass.review',
                'investigation.start',
                'investigation.review',
                'flagged-access.review',
                'user.create',
                'user.disable',
                'user.enable',
                'user.second-factor',
                'user.password',
                'user.practitioner-request',
                'user.practitioner-approve',
                'user.practitioner-reject',
                'configuration.change',
                'audit.checkpoint',
                'audit.vkey',
                'audit.record',
                'audit.proof',
                'audit.events',
                'audit.access-report',
              ];
            if (/^[a-z][a-z.-]{1,40}$/.test(code)) return [code];
            throw new FhirError(400, 'invalid', `unknown ${name} code`);
          });
        f.actions = [...(f.actions ?? []), ...actions];
        break;
      }
      case 'outcome': {
        const code = one().replace(/^[^|]*\|/, '');
        if (!(code in OUTCOMES)) throw new FhirError(400, 'invalid', 'outcome must be 0, 4, 8 or 12');
        f.outcome = OUTCOMES[code];
        break;
      }
      case 'date':
        for (const v of values) applyDate(f, v);
        break;
      case '_count': {
        const n = Number(one());
        if (!Number.isInteger(n) || n < 0 || n > 1000) throw new FhirError(400, 'invalid', '_count must be a whole number up to 1000');
        f.count = n;
        break;
      }
      case '_offset': {
        const n = Number(one());
        if (!Number.isInteger(n) || n < 0) throw new FhirError(400, 'invalid', '_offset must be a whole number');
        f.offset = n;
        break;
      }
      case '_summary': {
        // count: the total alone (a bundle without entries), answered from the maintained counts.
        const v = one();
        if (v === 'count') countOnly = true;
        else if (v !== 'false') throw new FhirError(400, 'not-supported', '_summary supports only count and false');
        break;
      }
      case '_sort':
        if (one() === '-date') f.newestFirst = true;
        else if (one() !== 'date') throw new FhirError(400, 'invalid', '_sort must be date or -date');
        break;
      default:
        throw new FhirError(400, 'not-supported', `unsupported AuditEvent search parameter ${name}`);
    }
  }
  if (countOnly) f.count = 0;
  return f;
}

/** FHIR date search: the prefix and the range the given precision covers. */
function applyDate(f: AuditSearch, value: string): void {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$/.exec(value);
  if (!m) throw new FhirError(400, 'invalid', 'date must be a FHIR date or dateTime with an optional prefix');
  const prefix = m[1] ?? 'eq';
  const [start, end] = range(m[2]);
  const later = (a: string | undefined, b: string) => (a && a > b ? a : b);
  const earlier = (a: string | undefined, b: string) => (a && a < b ? a : b);
  switch (prefix) {
    case 'eq':
      f.from = later(f.from, start);
      f.to = earlier(f.to, end);
      break;
    case 'ge':
    case 'sa':
      f.from = later(f.from, prefix === 'sa' ? end : start);
      break;
    case 'gt':
      f.from = later(f.from, end);
      break;
    case 'le':
      f.to = earlier(f.to, end);
      break;
    case 'lt':
    case 'eb':
      f.to = earlier(f.to, start);
      break;
    default:
      throw new FhirError(400, 'not-supported', 'the ne prefix is not supported for date');
  }
}

/** [start, end) in ISO UTC of a FHIR date or dateTime at its own precision. */
function range(v: string): [string, string] {
  if (/^\d{4}$/.test(v)) return [`${v}-01-01T00:00:00.000Z`, `${Number(v) + 1}-01-01T00:00:00.000Z`];
  if (/^\d{4}-\d{2}$/.test(v)) {
    const d = new Date(`${v}-01T00:00:00Z`);
    const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    return [d.toISOString(), next.toISOString()];
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = new Date(`${v}T00:00:00Z`);
    if (Number.isNaN(d.getTime())) throw new FhirError(400, 'invalid', 'date is not a calendar date');
    return [d.toISOString(), new Date(d.getTime() + 86_400_000).toISOString()];
  }
  const withZone = /Z|[+-]\d{2}:\d{2}$/.test(v) ? v : `${v}Z`;
  const d = new Date(withZone);
  if (Number.isNaN(d.getTime())) throw new FhirError(400, 'invalid', 'date is not a valid instant');
  const precisionMs = /\.\d+/.test(v) ? 1 : /T\d{2}:\d{2}:\d{2}/.test(v) ? 1000 : 60_000;
  return [d.toISOString(), new Date(d.getTime() + precisionMs).toISOString()];
}
