/**
 * The simulated hospital's structure: departments and wards with their workstations, staff with
 * roles, shifts and employment periods, and a population of patients in households on streets.
 * Some staff are patients too, some have relatives and neighbours among the patients: the
 * legitimate counterparts of the personal scenarios.
 */
import { nearbyStreets, type Conventions } from './conventions.js';
import { hashUnit, Rng } from './random.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export type RoleCode = 'physician' | 'nurse' | 'receptionist' | 'billing' | 'lab';
export type DeptKind = 'clinical' | 'emergency' | 'front-office' | 'billing' | 'lab';
/** Hours since midnight of the shift's start and end (an end past 24 runs into the next day). */
export const SHIFTS = {
  day: [7, 15],
  evening: [15, 23],
  night: [23, 31],
  office: [8, 17],
  'ed-day': [7, 19],
  'ed-night': [19, 31],
} as const;
export type Shift = keyof typeof SHIFTS;

export interface Ward {
  id: string;
  name: string;
  dept: Dept;
  hosts: string[];
}

export interface Dept {
  no: number;
  id: string;
  code: string;
  name: string;
  kind: DeptKind;
  wards: Ward[];
  clinic?: Ward;
  officeHosts: string[];
}

export interface Street {
  name: string;
  city: string;
  postalCode: string;
}

export interface Person {
  family: string;
  given: string;
  gender: 'female' | 'male';
  birthDate: string;
  house: number;
  street: Street;
  phone: string;
}

export interface Staff {
  idx: number;
  id: string;
  ref: string;
  role: RoleCode;
  dept: Dept;
  ward?: Ward;
  /** A second ward a float nurse covers now and then (a second PractitionerRole). */
  floatWard?: Ward;
  shift: Shift;
  person: Person;
  start: number;
  end?: number;
  workstations: string[];
  offWeekdays: number[];
  /** The staff member's own patient record, when they are a patient too. */
  ownPatient?: Patient;
  relatives: Patient[];
  /** Set when an incident is planned for this user: one incident per user (repeat offenders aside). */
  busy?: boolean;
}

export interface Patient {
  idx: number;
  id: string;
  ref: string;
  person: Person;
  labels: Array<'VIP' | 'EMP'>;
  staff?: Staff;
  /** Patients who come for care during the simulated weeks; the others are on file only. */
  visiting: boolean;
  inpatientUntil: number;
  /** Targets of incidents are never reused (one incident must not explain another). */
  targeted?: boolean;
}

export interface Hospital {
  start: number;
  days: number;
  depts: Dept[];
  staff: Staff[];
  patients: Patient[];
  byRole: Record<RoleCode, Staff[]>;
  streets: Street[];
  seed: number;
}

const CLINICAL = [
  ['internal-medicine', 'Internal Medicine'],
  ['cardiology', 'Cardiology'],
  ['surgery', 'General Surgery'],
  ['pediatrics', 'Pediatrics'],
  ['oncology', 'Oncology'],
  ['orthopedics', 'Orthopedics'],
  ['neurology', 'Neurology'],
  ['obstetrics', 'Obstetrics'],
  ['geriatrics', 'Geriatrics'],
  ['pulmonology', 'Pulmonology'],
] as const;

const SYLLABLES = [
  'an',
  'ber',
  'co',
  'dal',
  'en',
  'fra',
  'gu',
  'hol',
  'is',
  'jan',
  'ka',
  'lin',
  'mor',
  'ne',
  'ost',
  'pe',
  'ri',
  'sa',
  'tor',
  'ul',
  'ven',
  'wi',
  'ro',
  'mi',
  'sel',
  'da',
];
const GIVEN_F = [
  'Anna',
  'Maria',
  'Sofia',
  'Emma',
  'Lena',
  'Clara',
  'Julia',
  'Nora',
  'Ida',
  'Eva',
  'Mila',
  'Ella',
  'Rosa',
  'Lea',
  'Hanna',
  'Alice',
  'Greta',
  'Olga',
  'Petra',
  'Vera',
  'Zoe',
  'Iris',
  'Lina',
  'Mara',
];
const GIVEN_M = [
  'Adam',
  'Ben',
  'Carl',
  'David',
  'Emil',
  'Felix',
  'Jonas',
  'Karl',
  'Leo',
  'Max',
  'Noah',
  'Oskar',
  'Paul',
  'Rafael',
  'Samuel',
  'Tom',
  'Viktor',
  'Elias',
  'Hugo',
  'Ivan',
  'Luca',
  'Milan',
  'Otto',
  'Sven',
];
const STREET_KINDS = ['Street', 'Road', 'Lane', 'Avenue', 'Way', 'Close'];

function word(rng: Rng, parts: number): string {
  let w = '';
  for (let i = 0; i < parts; i++) w += rng.pick(SYLLABLES);
  return w[0].toUpperCase() + w.slice(1);
}

function birthDate(rng: Rng, minAge: number, maxAge: number, start: number): string {
  const ageDays = rng.int(minAge * 365, maxAge * 365);
  return new Date(start - ageDays * DAY).toISOString().slice(0, 10);
}

function phone(rng: Rng): string {
  return `+1-555-${String(rng.int(0, 9_999_999)).padStart(7, '0')}`;
}

/** Does this member of staff work on this calendar day (0 = the first simulated day)? */
export function works(h: Hospital, s: Staff, day: number): boolean {
  const t = h.start + day * DAY;
  if (t + DAY <= s.start) return false;
  // The last shift must end by the end of employment (a night shift would run past it).
  if (s.end !== undefined && t + SHIFTS[s.shift][1] * HOUR > s.end + HOUR) return false;
  const weekday = (new Date(t).getUTCDay() + 6) % 7; // Monday 0
  if (s.offWeekdays.includes(weekday)) return false;
  return hashUnit(h.seed, s.idx, day, 17) >= 0.05; // leave, sickness, training
}

/** The [start, end] of a staff member's shift that begins on `day`. */
export function shiftWindow(h: Hospital, s: Staff, day: number): [number, number] {
  const [a, b] = SHIFTS[s.shift];
  const base = h.start + day * DAY;
  return [base + a * HOUR, base + b * HOUR];
}

export function buildHospital(rng: Rng, opts: { users: number; patients: number; days: number; start: number; seed: number; conv: Conventions }): Hospital {
  const { users, start, conv } = opts;
  const depts: Dept[] = [];
  const addDept = (code: string, name: string, kind: DeptKind): Dept => {
    const no = depts.length + 1;
    const d: Dept = { no, id: `org-${code}`, code, name, kind, wards: [], officeHosts: Array.from({ length: 6 }, (_, i) => `10.${no}.0.${10 + i}`) };
    depts.push(d);
    return d;
  };
  const clinicalCount = Math.max(2, Math.min(CLINICAL.length, Math.round(users / 45)));
  const clinical = CLINICAL.slice(0, clinicalCount).map(([c, n]) => addDept(c, n, 'clinical'));
  const emergency = addDept('emergency', 'Emergency Department', 'emergency');
  const front = addDept('front-office', 'Patient Registration and Scheduling', 'front-office');
  const billing = addDept('billing', 'Billing', 'billing');
  const lab = addDept('laboratory', 'Laboratory', 'lab');

  // Staff mix of a general hospital: about half nurses, a quarter physicians.
  const roles: RoleCode[] = [];
  for (let i = 0; i < users; i++) {
    const x = rng.next();
    roles.push(x < 0.24 ? 'physician' : x < 0.72 ? 'nurse' : x < 0.82 ? 'receptionist' : x < 0.89 ? 'billing' : 'lab');
  }
  const careDepts = [...clinical, emergency];
  const nursesPerDept = new Map<Dept, number>();
  const staff: Staff[] = [];
  const streetCount = Math.max(20, Math.round(opts.patients / 14));
  const cities = Array.from({ length: Math.max(2, Math.round(streetCount / 60)) }, () => word(rng, 2));
  const streets: Street[] = Array.from({ length: streetCount }, (_, i) => ({
    name: `${word(rng, 2)} ${rng.pick(STREET_KINDS)}`,
    city: cities[i % cities.length],
    postalCode: String(10000 + Math.floor(i / 3) * 7).padStart(5, '0'),
  }));
  const families = Array.from({ length: Math.max(40, Math.round(opts.patients / conv.perSurname)) }, () => word(rng, 2 + (rng.chance(0.5) ? 1 : 0)));

  const person = (family: string, street: Street, house: number, tel: string, minAge: number, maxAge: number): Person => {
    const gender = rng.chance(0.5) ? 'female' : 'male';
    return {
      family,
      given: rng.pick(gender === 'female' ? GIVEN_F : GIVEN_M),
      gender,
      birthDate: birthDate(rng, minAge, maxAge, start),
      house,
      street,
      phone: tel,
    };
  };

  for (let i = 0; i < users; i++) {
    const role = roles[i];
    const dept =
      role === 'receptionist'
        ? front
        : role === 'billing'
          ? billing
          : role === 'lab'
            ? lab
            : rng.chance(1 / (careDepts.length + 1))
              ? emergency
              : rng.pick(clinical);
    if (role === 'nurse') nursesPerDept.set(dept, (nursesPerDept.get(dept) ?? 0) + 1);
    const street = conv.nearby > 0 && rng.chance(conv.nearby) ? rng.pick(streets.slice(0, nearbyStreets({ streets }))) : rng.pick(streets);
    const p = person(rng.pick(families), street, rng.int(1, 160), phone(rng), 22, 64);
    const s: Staff = {
      idx: i,
      id: `pr-${String(i + 1).padStart(5, '0')}`,
      ref: `Practitioner/pr-${String(i + 1).padStart(5, '0')}`,
      role,
      dept,
      shift: 'office',
      person: p,
      start: start - rng.int(60, 4000) * DAY,
      workstations: [],
      offWeekdays: [],
      relatives: [],
    };
    staff.push(s);
  }
  // Wards: one per eight nurses or so, at least one per care department; each with its workstations.
  for (const d of careDepts) {
    const n = Math.max(1, Math.round((nursesPerDept.get(d) ?? 0) / 9));
    for (let w = 0; w < n; w++) {
      d.wards.push({
        id: `loc-${d.code}-${w + 1}`,
        name: `${d.name} ward ${w + 1}`,
        dept: d,
        hosts: Array.from({ length: conv.wardHosts }, (_, i) => `10.${d.no}.${w + 1}.${10 + i}`),
      });
    }
    if (d.kind === 'clinical')
      d.clinic = {
        id: `loc-${d.code}-clinic`,
        name: `${d.name} outpatient clinic`,
        dept: d,
        hosts: Array.from({ length: 4 }, (_, i) => `10.${d.no}.99.${10 + i}`),
      };
  }
  for (const s of staff) {
    const weekdayPair = rng.int(0, 6);
    switch (s.role) {
      case 'nurse': {
        s.ward = rng.pick(s.dept.wards);
        const x = rng.next();
        s.shift = s.dept.kind === 'emergency' ? (x < 0.6 ? 'ed-day' : 'ed-night') : x < 0.6 ? 'day' : x < 0.82 ? 'evening' : 'night';
        s.offWeekdays = [weekdayPair, (weekdayPair + 1) % 7];
        s.workstations = rng.shuffle([...s.ward.hosts]).slice(0, rng.int(2, 3));
        const others = careDepts.flatMap((d) => d.wards).filter((w) => w !== s.ward);
        if (others.length > 0 && rng.chance(conv.float)) s.floatWard = rng.pick(others);
        break;
      }
      case 'physician': {
        s.shift = s.dept.kind === 'emergency' ? (rng.chance(0.5) ? 'ed-day' : 'ed-night') : 'office';
        s.offWeekdays = s.dept.kind === 'emergency' ? [weekdayPair, (weekdayPair + 3) % 7] : [5, 6];
        const hosts = [...s.dept.wards.flatMap((w) => w.hosts), ...(s.dept.clinic?.hosts ?? []), ...s.dept.officeHosts];
        s.workstations = rng.shuffle(hosts).slice(0, rng.int(3, 4));
        break;
      }
      case 'lab':
        s.shift = rng.chance(0.7) ? 'day' : 'night';
        s.offWeekdays = [weekdayPair, (weekdayPair + 1) % 7];
        s.workstations = rng.shuffle([...s.dept.officeHosts]).slice(0, 2);
        break;
      default:
        s.shift = 'office';
        s.offWeekdays = [5, 6];
        s.workstations = rng.shuffle([...s.dept.officeHosts]).slice(0, rng.int(1, 2));
    }
  }
  // Legitimate leavers and joiners: they work normally inside their employment period.
  for (const s of staff) {
    // Two draws, the second only when the first says no: one in fifty leaves, one in fifty of the rest joins.
    const leaves = rng.chance(0.02);
    if (leaves) s.end = start + rng.int(Math.floor(opts.days / 3), opts.days - 1) * DAY + DAY - 1;
    else if (rng.chance(0.02)) s.start = start + rng.int(1, Math.floor(opts.days / 2)) * DAY;
  }

  // Patients in households; some staff live in those households (relatives), some are patients themselves.
  const patients: Patient[] = [];
  const newPatient = (p: Person): Patient => {
    const pat: Patient = { idx: patients.length, id: '', ref: '', person: p, labels: [], visiting: false, inpatientUntil: 0 };
    patients.push(pat);
    return pat;
  };
  const staffPatients = staff.filter(() => rng.chance(conv.staffPatients));
  const target = opts.patients - staffPatients.length;
  for (const s of staff) {
    if (patients.length >= target || !rng.chance(0.5)) continue;
    // The staff member's household: a partner (often with another surname) and children.
    const size = rng.int(1, 3);
    for (let k = 0; k < size && patients.length < target; k++) {
      const family = k === 0 && rng.chance(0.35) ? rng.pick(families) : s.person.family;
      const rel = newPatient(person(family, s.person.street, s.person.house, s.person.phone, k === 0 ? 20 : 1, k === 0 ? 70 : 25));
      s.relatives.push(rel);
    }
  }
  while (patients.length < target) {
    const street = conv.nearby > 0 && rng.chance(conv.nearby / 3) ? rng.pick(streets.slice(0, nearbyStreets({ streets }))) : rng.pick(streets);
    const house = rng.int(1, 160);
    const family = rng.pick(families);
    const tel = phone(rng);
    const size = Math.min(target - patients.length, rng.chance(0.4) ? 1 : rng.int(2, 4));
    for (let k = 0; k < size; k++)
      newPatient(person(k > 0 && rng.chance(0.15) ? rng.pick(families) : family, street, house, rng.chance(0.8) ? tel : phone(rng), 0, 95));
  }
  for (const s of staffPatients) {
    const own = newPatient({ ...s.person });
    own.labels.push('EMP');
    own.staff = s;
    s.ownPatient = own;
  }
  // Identifiers in registration order, which is not the order households were made in.
  rng.shuffle(patients);
  patients.forEach((p, i) => {
    p.idx = i;
    p.id = `pt-${String(i + 1).padStart(6, '0')}`;
    p.ref = `Patient/${p.id}`;
    p.visiting = rng.chance(0.65);
    if (!p.staff && rng.chance(conv.vip)) p.labels.push('VIP');
  });

  const byRole = { physician: [], nurse: [], receptionist: [], billing: [], lab: [] } as Record<RoleCode, Staff[]>;
  for (const s of staff) byRole[s.role].push(s);
  return { start, days: opts.days, depts, staff, patients, byRole, streets, seed: opts.seed };
}
