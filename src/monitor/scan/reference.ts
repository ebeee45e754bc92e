/**
 * The clinic's reference data, held in memory for the scan: staff (Practitioner, PractitionerRole),
 * patients, and every resource that links a member of staff, a ward or a department to a patient
 * (Encounter, Appointment, CareTeam, ServiceRequest). It scales with the clinic, not with the
 * access log, so holding it is what keeps the event pass itself streaming.
 */
import fs from 'node:fs';
import path from 'node:path';
import { forEachRecord, MonitorInputError } from '../ndjson.js';
import { identityOf, nameBirthKey, normalise, type Identity } from './identity.js';
import type { Json } from '../ndjson.js';

export { nameBirthKey, normalise, type Identity } from './identity.js';

export const DAY_MS = 86_400_000;

const RESTRICTED_LABELS = new Set(['VIP', 'CEL', 'CELEB', 'CELEBRITY', 'EMP', 'EMPLOYEE', 'STAFF', 'V']);

export function isRestricted(labels: Set<string>): boolean {
  for (const l of labels) if (RESTRICTED_LABELS.has(l)) return true;
  return false;
}

/** How a user's job is classed for the "role's normal work" explanation. */
export type RoleKind = 'clinical' | 'front-office' | 'billing' | 'lab';

export interface User {
  idx: number;
  ref: string;
  roleKey: string;
  roleKind: RoleKind;
  /** Role × department: the peer group baselines are computed over. */
  peerKey: string;
  orgs: Set<number>;
  locations: Set<number>;
  /** Employment end (ms, the end of that day when only a date is given); undefined while employed. */
  endMs?: number;
  /** The end is known only as "inactive" (active = false, no end date). */
  inactive: boolean;
  identity: Identity;
  known: boolean;
  /** The user's own patient records (same name and birth date): opening one is a self-lookup. */
  selfPatients: Set<number>;
  /** Patients of the user's household or street: the same phone, address or street. */
  householdPatients: Set<number>;
}

/** A user the reference data does not describe (seen only in the log, or a network standing in for one): no facts beyond its name. */
export function unknownUser(idx: number, ref: string, roleKey: string, peerKey: string): User {
  return {
    idx,
    ref,
    roleKey,
    roleKind: 'clinical',
    peerKey,
    orgs: new Set(),
    locations: new Set(),
    inactive: false,
    identity: { phones: [], addresses: [], streets: [] },
    known: false,
    selfPatients: new Set(),
    householdPatients: new Set(),
  };
}

export type LinkKind = 'encounter' | 'appointment' | 'care-team' | 'order';

export interface Link {
  kind: LinkKind;
  start: number;
  end: number;
  users: number[];
  orgs: number[];
  locations: number[];
  /** The moments the link is about (an appointment's booking and start, an encounter's start and end). */
  anchors: number[];
}

export interface Patient {
  idx: number;
  ref: string;
  identity: Identity;
  labels: Set<string>;
  /** VIP, celebrity or staff: the role's normal work explains an access only at the visit itself. */
  restricted: boolean;
  links: Link[];
  /** Ranks among all patients, by identifier (numeric-aware) and by name: for sweeps. */
  idRank: number;
  nameRank: number;
}

/** Reference resources by type; AuditEvent files are the stream and are read apart. */
const REFERENCE_TYPES = [
  'Organization',
  'Location',
  'Practitioner',
  'PractitionerRole',
  'Patient',
  'Encounter',
  'Appointment',
  'CareTeam',
  'ServiceRequest',
] as const;

/** A FHIR instant or date as ms; a date alone is taken at its start (or end, for ends). */
export function timeOf(v: unknown, atEnd = false): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms)) return undefined;
  return atEnd && /^\d{4}-\d{2}-\d{2}$/.test(v) ? ms + DAY_MS - 1 : ms;
}

function refId(ref: unknown, type: string): string | undefined {
  if (typeof ref !== 'string') return undefined;
  const m = /(?:^|\/)([A-Za-z]+)\/([^/]+)(?:\/_history\/.*)?$/.exec(ref);
  return m && m[1] === type ? m[2] : undefined;
}

export function classifyRole(key: string): RoleKind {
  if (/recept|front|regist|clerk|schedul|admission|desk|secretar/.test(key)) return 'front-office';
  if (/bill|financ|coder|coding|claim|account/.test(key)) return 'billing';
  if (/lab|patholog|phleb|specimen/.test(key)) return 'lab';
  return 'clinical';
}

export class ReferenceData {
  readonly users: User[] = [];
  readonly patients: Patient[] = [];
  private readonly userByRef = new Map<string, number>();
  private readonly patientByRef = new Map<string, number>();
  private readonly orgs = new Map<string, number>();
  private readonly locations = new Map<string, number>();
  /** PractitionerRole id → Practitioner id, for references that name the role. */
  private readonly roleToPractitioner = new Map<string, string>();
  /** Staff identities by name and birth date / phone: to tell that a patient is a member of staff. */
  readonly staffByNameBirth = new Map<string, number[]>();
  readonly staffByPhone = new Map<string, number[]>();
  counts: Record<string, number> = {};

  orgIndex(id: string): number {
    let i = this.orgs.get(id);
    if (i === undefined) this.orgs.set(id, (i = this.orgs.size));
    return i;
  }

  locationIndex(id: string): number {
    let i = this.locations.get(id);
    if (i === undefined) this.locations.set(id, (i = this.locations.size));
    return i;
  }

  /** The user behind an agent reference (Practitioner/x or PractitionerRole/x); unknown users are added. */
  userFor(reference: string): User | undefined {
    let id = refId(reference, 'Practitioner');
    if (!id) {
      const role = refId(reference, 'PractitionerRole');
      id = role ? (this.roleToPractitioner.get(role) ?? `role:${role}`) : undefined;
    }
    if (!id) return undefined;
    const found = this.userByRef.get(id);
    if (found !== undefined) return this.users[found];
    const user = unknownUser(this.users.length, `Practitioner/${id}`, 'unknown', 'unknown|unknown');
    this.users.push(user);
    this.userByRef.set(id, user.idx);
    return user;
  }

  patientFor(reference: string): Patient | undefined {
    const id = refId(reference, 'Patient');
    if (!id) return undefined;
    const found = this.patientByRef.get(id);
    if (found !== undefined) return this.patients[found];
    const p: Patient = {
      idx: this.patients.length,
      ref: `Patient/${id}`,
      identity: { phones: [], addresses: [], streets: [] },
      labels: new Set(),
      restricted: false,
      links: [],
      idRank: -1,
      nameRank: -1,
    };
    this.patients.push(p);
    this.patientByRef.set(id, p.idx);
    return p;
  }

  private userIndices(refs: unknown[]): number[] {
    const out: number[] = [];
    for (const r of refs) {
      if (typeof r !== 'string' || !/(Practitioner|PractitionerRole)\//.test(r)) continue;
      const u = this.userFor(r);
      if (u && !out.includes(u.idx)) out.push(u.idx);
    }
    return out;
  }

  private addLink(patientRef: unknown, link: Link): void {
    if (typeof patientRef !== 'string') return;
    const p = this.patientFor(patientRef);
    if (p) p.links.push(link);
  }

  /** Loads every reference file of the folder (Type.ndjson or Type.<anything>.ndjson). */
  static async load(dir: string): Promise<ReferenceData> {
    const data = new ReferenceData();
    const files = fs.readdirSync(dir);
    const filesOf = (type: string) => files.filter((f) => f === `${type}.ndjson` || (f.startsWith(`${type}.`) && f.endsWith('.ndjson'))).sort();
    const roles: Json[] = [];
    for (const type of REFERENCE_TYPES) {
      for (const f of filesOf(type)) {
        await forEachRecord(path.join(dir, f), (value, line) => {
          const r = value as Json;
          if (r.resourceType !== type)
            throw new MonitorInputError(
              `${f}:${line}: expected a ${type}, found ${typeof r.resourceType === 'string' ? r.resourceType.slice(0, 40) : 'no resourceType'}`,
            );
          data.counts[type] = (data.counts[type] ?? 0) + 1;
          if (type === 'PractitionerRole') roles.push(r);
          else data.take(type, r);
        });
      }
      if (type === 'PractitionerRole') data.takeRoles(roles);
    }
    data.finish();
    return data;
  }

  /**
   * The same from resources already in memory: the live monitor reads them through the FHIR
   * service rather than from files. Types other than the reference types are ignored.
   */
  static fromResources(resources: Iterable<Json>): ReferenceData {
    const data = new ReferenceData();
    const byType = new Map<string, Json[]>();
    for (const r of resources) {
      const list = byType.get(r.resourceType);
      if (list) list.push(r);
      else byType.set(r.resourceType, [r]);
    }
    // The order of REFERENCE_TYPES matters (roles need their practitioners, links their patients).
    for (const type of REFERENCE_TYPES) {
      const list = byType.get(type) ?? [];
      data.counts[type] = list.length;
      if (type === 'PractitionerRole') data.takeRoles(list);
      else for (const r of list) data.take(type, r);
    }
    data.finish();
    return data;
  }

  /** After every resource is in: ranks for sweeps, staff who are patients, households. */
  private finish(): void {
    this.rank();
    for (const p of this.patients) {
      for (const u of this.staffMatching(p)) {
        this.users[u].selfPatients.add(p.idx);
        p.restricted = true;
      }
    }
    this.linkHouseholds();
  }

  private take(type: string, r: Json): void {
    switch (type) {
      case 'Organization':
        if (r.id) this.orgIndex(r.id);
        break;
      case 'Location':
        if (r.id) this.locationIndex(r.id);
        break;
      case 'Practitioner': {
        if (!r.id) return;
        const u = this.userFor(`Practitioner/${r.id}`)!;
        u.identity = identityOf(r);
        u.known = true;
        if (r.active === false) u.inactive = true;
        const key = nameBirthKey(u.identity);
        if (key) pushTo(this.staffByNameBirth, key, u.idx);
        for (const ph of u.identity.phones) pushTo(this.staffByPhone, ph, u.idx);
        break;
      }
      case 'Patient': {
        if (!r.id) return;
        const p = this.patientFor(`Patient/${r.id}`)!;
        p.identity = identityOf(r);
        for (const s of r.meta?.security ?? []) if (typeof s.code === 'string') p.labels.add(s.code.toUpperCase());
        p.restricted = isRestricted(p.labels);
        break;
      }
      case 'Encounter': {
        const start = timeOf(r.period?.start);
        if (start === undefined) return;
        const end = timeOf(r.period?.end, true) ?? (r.status === 'finished' ? start : Number.MAX_SAFE_INTEGER);
        const participants = (r.participant ?? []).map((x: Json) => x.individual?.reference);
        const orgs = [r.serviceProvider?.reference]
          .map((o) => refId(o, 'Organization'))
          .filter(Boolean)
          .map((o) => this.orgIndex(o!));
        const locations = (r.location ?? [])
          .map((l: Json) => refId(l.location?.reference, 'Location'))
          .filter(Boolean)
          .map((l: string) => this.locationIndex(l));
        this.addLink(r.subject?.reference, { kind: 'encounter', start, end, users: this.userIndices(participants), orgs, locations, anchors: [start, end] });
        break;
      }
      case 'Appointment': {
        const start = timeOf(r.start) ?? timeOf(r.created);
        if (start === undefined) return;
        const end = timeOf(r.end) ?? start;
        const actors = (r.participant ?? []).map((x: Json) => x.actor?.reference).filter((a: unknown) => typeof a === 'string') as string[];
        const patient = actors.find((a) => refId(a, 'Patient'));
        const locations = actors
          .map((a) => refId(a, 'Location'))
          .filter(Boolean)
          .map((l) => this.locationIndex(l!));
        const created = timeOf(r.created);
        this.addLink(patient, {
          kind: 'appointment',
          start: Math.min(start, created ?? start),
          end,
          users: this.userIndices(actors),
          orgs: [],
          locations,
          anchors: created !== undefined ? [created, start] : [start],
        });
        break;
      }
      case 'CareTeam': {
        const start = timeOf(r.period?.start) ?? 0;
        const end = timeOf(r.period?.end, true) ?? Number.MAX_SAFE_INTEGER;
        const members = (r.participant ?? []).map((x: Json) => x.member?.reference);
        const orgs = [...members, r.managingOrganization?.[0]?.reference]
          .map((o) => refId(o, 'Organization'))
          .filter(Boolean)
          .map((o) => this.orgIndex(o!));
        this.addLink(r.subject?.reference, { kind: 'care-team', start, end, users: this.userIndices(members), orgs, locations: [], anchors: [start] });
        break;
      }
      case 'ServiceRequest': {
        const start = timeOf(r.authoredOn) ?? timeOf(r.occurrenceDateTime) ?? timeOf(r.occurrencePeriod?.start);
        if (start === undefined) return;
        const end = timeOf(r.occurrencePeriod?.end, true) ?? timeOf(r.occurrenceDateTime) ?? start;
        const people = [r.requester?.reference, ...(r.performer ?? []).map((x: Json) => x.reference)];
        const orgs = (r.performer ?? [])
          .map((x: Json) => refId(x.reference, 'Organization'))
          .filter(Boolean)
          .map((o: string) => this.orgIndex(o));
        this.addLink(r.subject?.reference, {
          kind: 'order',
          start,
          end: Math.max(start, end),
          users: this.userIndices(people),
          orgs,
          locations: [],
          anchors: [start],
        });
        break;
      }
    }
  }

  /** A practitioner's roles: the latest starting one gives the peer group; ends and sites are unions. */
  private takeRoles(roles: Json[]): void {
    const byUser = new Map<number, Json[]>();
    for (const r of roles) {
      const pid = refId(r.practitioner?.reference, 'Practitioner');
      if (!pid) continue;
      if (r.id) this.roleToPractitioner.set(r.id, pid);
      const u = this.userFor(`Practitioner/${pid}`)!;
      pushTo(byUser, u.idx, r);
    }
    for (const [idx, list] of byUser) {
      const u = this.users[idx];
      list.sort((a, b) => (timeOf(a.period?.start) ?? 0) - (timeOf(b.period?.start) ?? 0));
      const primary = list[list.length - 1];
      const codes = (primary.code ?? [])
        .flatMap((c: Json) => [...(c.coding ?? []).map((x: Json) => x.code ?? x.display), c.text])
        .filter((x: unknown) => typeof x === 'string');
      u.roleKey = normalise(codes[0] ?? 'unknown') || 'unknown';
      u.roleKind = classifyRole(codes.map(normalise).join(' '));
      const org = refId(primary.organization?.reference, 'Organization');
      u.peerKey = `${u.roleKey}|${org ?? 'none'}`;
      let end: number | undefined = 0;
      for (const r of list) {
        const o = refId(r.organization?.reference, 'Organization');
        if (o) u.orgs.add(this.orgIndex(o));
        for (const l of r.location ?? []) {
          const id = refId(l.reference, 'Location');
          if (id) u.locations.add(this.locationIndex(id));
        }
        const e = timeOf(r.period?.end, true);
        // Employment ends when the last role ends; a role without an end keeps it open.
        if (end !== undefined) end = e === undefined ? undefined : Math.max(end, e);
      }
      u.endMs = end || undefined;
      if (list.every((r) => r.active === false)) u.inactive = true;
      u.known = true;
    }
  }

  private linkHouseholds(): void {
    const byKey = new Map<string, number[]>();
    const keysOf = (id: Identity) => [...id.phones.map((x) => `t:${x}`), ...id.addresses.map((x) => `a:${x}`), ...id.streets.map((x) => `s:${x}`)];
    for (const p of this.patients) for (const k of keysOf(p.identity)) pushTo(byKey, k, p.idx);
    for (const u of this.users) for (const k of keysOf(u.identity)) for (const p of byKey.get(k) ?? []) if (!u.selfPatients.has(p)) u.householdPatients.add(p);
  }

  private rank(): void {
    const collator = new Intl.Collator('en', { numeric: true });
    const byId = [...this.patients].sort((a, b) => collator.compare(a.ref, b.ref));
    byId.forEach((p, i) => (p.idRank = i));
    const nameOf = (p: Patient) => `${p.identity.family ?? '~'} ${p.identity.given ?? ''}`;
    const byName = [...this.patients].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
    byName.forEach((p, i) => (p.nameRank = i));
  }

  /** Staff (other than `except`) whose identity is this patient's. */
  staffMatching(p: Patient, except?: number): number[] {
    const key = nameBirthKey(p.identity);
    const found = new Set<number>(key ? (this.staffByNameBirth.get(key) ?? []) : []);
    if (except !== undefined) found.delete(except);
    return [...found];
  }
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
