/**
 * What each capability's events become in the log: one record per event, in the words a privacy
 * officer reads (who, what, on which patient or thing, allowed or not, and why). Pure mappings, so
 * that the audit service (service.ts) only appends what these give.
 */
import type { AccessEvent, GrantEvent } from '../access/index.js';
import type { ClientEvent } from '../clients/index.js';
import type { IdentityEvent } from '../identity/index.js';
import type { EquipmentEvent, RequestDetails } from '../shared/index.js';
import { auditUser, type AuditRecord } from './record.js';

/**
 * A record as its maker hands it over: time is filled in when absent, and `request` (the HTTP request
 * it came through, if any) gives the record its request id and client, unless the record names them.
 */
export type NewRecord = Omit<AuditRecord, 'time'> & { time?: string; request?: RequestDetails };

/** An access rule's decision (a search: one per patient returned). */
export function accessRecord(e: AccessEvent): NewRecord {
  const g = e.decision.grounds;
  const req = e.who.request;
  return {
    action: e.action,
    outcome: e.decision.allowed ? 'success' : 'denied',
    user: auditUser(e.who),
    patient: e.patientId ?? undefined,
    resource: { type: e.resourceType, id: e.id, version: e.version === undefined ? undefined : String(e.version) },
    request: req,
    query: e.action === 'search' || e.action === 'history' || e.action === 'lookup' ? req?.query : undefined,
    purposeOfUse: g?.purposeOfUse,
    explanation: e.decision.allowed ? { reason: e.decision.reason, ...(g ?? {}) } : { reason: e.decision.reason },
  };
}

/** A sign-in, sign-out, account made or disabled, second factor enrolled. */
export function identityRecord(e: IdentityEvent): NewRecord {
  const actor = e.actor;
  return {
    action: e.action,
    outcome: e.outcome,
    user: actor ? auditUser(actor) : { username: 'system' },
    request: e.request ?? actor?.request,
    resource: e.account ? { type: 'Account', id: e.account.id } : undefined,
    explanation: {
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.account
        ? {
            account: e.account.username,
            ...(e.account.roles ? { roles: e.account.roles } : {}),
            ...(e.account.practitioner ? { practitioner: e.account.practitioner } : {}),
          }
        : {}),
    },
  };
}

/** A system client registered or disabled, or a token issued (or refused) to one. */
export function clientRecord(e: ClientEvent): NewRecord {
  return {
    action: e.action,
    outcome: e.outcome,
    user: e.action === 'client.token' && e.client ? { account: `client:${e.client.id}`, username: `client:${e.client.name}` } : { username: 'system' },
    request: e.request,
    resource: e.client ? { type: 'Client', id: e.client.id } : undefined,
    explanation: { ...(e.client ? { client: e.client.name } : {}), ...(e.scopes ? { scopes: e.scopes } : {}), ...(e.reason ? { reason: e.reason } : {}) },
  };
}

/** A break-the-glass or investigation opened (or refused), or its review. */
export function grantRecord(e: GrantEvent): NewRecord {
  return {
    action: e.action,
    outcome: e.outcome,
    user: auditUser(e.who),
    request: e.who.request,
    patient: e.patient,
    resource: e.grantId ? { type: 'AccessGrant', id: e.grantId } : undefined,
    purposeOfUse: e.action === 'break-glass.start' && e.outcome === 'success' ? 'ETREAT' : undefined,
    explanation: { reason: e.reason, ...(e.expiresAt ? { expiresAt: e.expiresAt } : {}) },
  };
}

/** Equipment: an inventory import, update release or approval, rollout, advisory, device report. */
export function equipmentRecord(e: EquipmentEvent): NewRecord {
  const user = 'device' in e.who ? { account: `device:${e.who.device}`, username: `device:${e.who.device}` } : auditUser(e.who);
  return {
    action: e.action,
    outcome: e.outcome,
    user,
    request: e.who.request,
    resource: e.resource,
    explanation: { ...(e.reason ? { reason: e.reason } : {}), ...(e.details ?? {}) },
  };
}
