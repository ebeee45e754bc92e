/**
 * The demo clinic's structure: the clinic (an Organization), its departments, wards (Locations) and
 * about twenty staff, each a Practitioner with a PractitionerRole and a user account. Pure data: no
 * database here, so that the same seed always yields the same clinic and the generator can be
 * tested without one.
 */
import crypto from 'node:crypto';
import type { Faker } from '@faker-js/faker';
import type { Location, Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { Role } from '../shared/index.js';
import { concept, SNOMED } from './codes.js';

export type WithId<T> = T & { id: string };

/** A demo account as the CLI prints it. The passwords are public: demo mode only, loopback only. */
export interface DemoLogin {
  username: string;
  password: string;
  roles: Role[];
  /** 'Practitioner/<id>' the account acts as. */
  practitioner: string;
  /** otpauth:// URI for roles that require a second factor. */
  totpUri?: string;
  description: string;
}

export type DepartmentKey = 'internal' | 'cardiology' | 'surgery' | 'emergency' | 'laboratory' | 'administration';

export interface StaffMember {
  role: Role;
  department: DepartmentKey;
  /** As shown in references: 'Dr. Lisa Cuddy', 'James Wilson'. */
  name: string;
  practitioner: WithId<Practitioner>;
  practitionerRole: WithId<PractitionerRole>;
  login: Omit<DemoLogin, 'totpUri'>;
}

export interface Ward {
  department: DepartmentKey;
  location: WithId<Location>;
}

export interface Clinic {
  organization: WithId<Organization>;
  departments: Record<DepartmentKey, WithId<Organization>>;
  wards: Ward[];
  staff: StaffMember[];
}

const ORG_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type';
const PHYSICAL_TYPE = 'http://terminology.hl7.org/CodeSystem/location-physical-type';
const PRACTITIONER_ROLE = 'http://terminology.hl7.org/CodeSystem/practitioner-role';
/** Carewall's own access roles, so that a PractitionerRole names the role its account has. */
export const CAREWALL_ROLE_SYSTEM = 'urn:carewall:role';
export const STAFF_ID_SYSTEM = 'urn:carewall:demo:staff';

const DEPARTMENTS: Record<DepartmentKey, string> = {
  internal: 'Internal Medicine',
  cardiology: 'Cardiology',
  surgery: 'Surgery',
  emergency: 'Emergency Medicine',
  laboratory: 'Clinical Laboratory',
  administration: 'Administration',
};

const WARDS: Array<{ department: DepartmentKey; name: string; physicalType: 'wa' | 'area' }> = [
  { department: 'internal', name: 'Ward A - Internal medicine', physicalType: 'wa' },
  { department: 'cardiology', name: 'Ward B - Cardiology', physicalType: 'wa' },
  { department: 'surgery', name: 'Ward C - Surgery', physicalType: 'wa' },
  { department: 'emergency', name: 'Emergency department', physicalType: 'area' },
  { department: 'internal', name: 'Outpatient clinic', physicalType: 'area' },
];

const SPECIALTIES: Partial<Record<DepartmentKey, [string, string]>> = {
  internal: ['419192003', 'Internal medicine'],
  cardiology: ['394579002', 'Cardiology'],
  surgery: ['394609007', 'General surgery'],
  emergency: ['773568002', 'Emergency medicine'],
  laboratory: ['394596001', 'Chemical pathology'],
};

/** Who works here: role, department, how many, and what the login list says about them. */
const STAFF_PLAN: Array<{ role: Role; department: DepartmentKey; count: number; description: string }> = [
  { role: 'physician', department: 'internal', count: 2, description: 'physician, internal medicine' },
  { role: 'physician', department: 'cardiology', count: 1, description: 'physician, cardiology' },
  { role: 'physician', department: 'surgery', count: 1, description: 'surgeon' },
  { role: 'physician', department: 'emergency', count: 1, description: 'physician, emergency medicine' },
  { role: 'nurse', department: 'internal', count: 2, description: 'nurse, Ward A - Internal medicine' },
  { role: 'nurse', department: 'cardiology', count: 1, description: 'nurse, Ward B - Cardiology' },
  { role: 'nurse', department: 'surgery', count: 1, description: 'nurse, Ward C - Surgery' },
  { role: 'nurse', department: 'emergency', count: 1, description: 'nurse, emergency department' },
  { role: 'receptionist', department: 'administration', count: 2, description: 'front desk: registration and appointments' },
  { role: 'billing', department: 'administration', count: 1, description: 'billing and claims' },
  { role: 'lab', department: 'laboratory', count: 2, description: 'laboratory technician' },
  { role: 'biomedical-engineer', department: 'administration', count: 1, description: 'biomedical engineer: devices and integrations' },
  { role: 'privacy-officer', department: 'administration', count: 1, description: 'privacy officer: access reviews, consents' },
  { role: 'security-admin', department: 'administration', count: 1, description: 'security administrator: keys, audit' },
  { role: 'awareness-officer', department: 'administration', count: 1, description: 'awareness officer: phishing simulations and staff training' },
  { role: 'admin', department: 'administration', count: 1, description: 'clinic administrator: user accounts' },
];

const ROLE_CODINGS: Record<Role, { system: string; code: string; display: string } | undefined> = {
  physician: { system: PRACTITIONER_ROLE, code: 'doctor', display: 'Doctor' },
  nurse: { system: PRACTITIONER_ROLE, code: 'nurse', display: 'Nurse' },
  'biomedical-engineer': { system: PRACTITIONER_ROLE, code: 'ict', display: 'ICT professional' },
  'security-admin': { system: PRACTITIONER_ROLE, code: 'ict', display: 'ICT professional' },
  receptionist: undefined,
  billing: undefined,
  lab: undefined,
  'privacy-officer': undefined,
  'awareness-officer': undefined,
  admin: undefined,
};

export function generateClinic(faker: Faker): Clinic {
  const city = faker.location.city();
  const organization: WithId<Organization> = {
    resourceType: 'Organization',
    id: crypto.randomUUID(),
    active: true,
    identifier: [{ system: 'urn:carewall:demo:organization', value: 'CLINIC-1' }],
    type: [{ coding: [{ system: ORG_TYPE, code: 'prov', display: 'Healthcare Provider' }] }],
    name: `${city} Community Clinic`,
    telecom: [{ system: 'phone', value: faker.phone.number({ style: 'national' }), use: 'work' }],
    address: [
      {
        use: 'work',
        line: [faker.location.streetAddress()],
        city,
        state: faker.location.state({ abbreviated: true }),
        postalCode: faker.location.zipCode('#####'),
        country: 'US',
      },
    ],
  };
  const departments = Object.fromEntries(
    (Object.keys(DEPARTMENTS) as DepartmentKey[]).map((key) => [
      key,
      {
        resourceType: 'Organization',
        id: crypto.randomUUID(),
        active: true,
        type: [{ coding: [{ system: ORG_TYPE, code: 'dept', display: 'Hospital Department' }] }],
        name: DEPARTMENTS[key],
        partOf: { reference: `Organization/${organization.id}`, display: organization.name },
      } satisfies WithId<Organization>,
    ]),
  ) as Record<DepartmentKey, WithId<Organization>>;

  const wards: Ward[] = WARDS.map((w) => ({
    department: w.department,
    location: {
      resourceType: 'Location',
      id: crypto.randomUUID(),
      status: 'active',
      mode: 'instance',
      name: w.name,
      physicalType: { coding: [{ system: PHYSICAL_TYPE, code: w.physicalType, display: w.physicalType === 'wa' ? 'Ward' : 'Area' }] },
      managingOrganization: { reference: `Organization/${departments[w.department].id}`, display: DEPARTMENTS[w.department] },
    },
  }));

  const usernames = new Set<string>();
  const staff: StaffMember[] = [];
  for (const plan of STAFF_PLAN) {
    for (let i = 0; i < plan.count; i++) {
      staff.push(staffMember(faker, plan, staff.length + 1, departments[plan.department], wards, usernames));
    }
  }
  return { organization, departments, wards, staff };
}

function staffMember(
  faker: Faker,
  plan: (typeof STAFF_PLAN)[number],
  n: number,
  department: WithId<Organization>,
  wards: Ward[],
  taken: Set<string>,
): StaffMember {
  const sex = faker.person.sex() as 'female' | 'male';
  const given = faker.person.firstName(sex);
  const family = faker.person.lastName();
  const username = uniqueUsername(plan.role === 'physician' ? `dr.${family}` : `${given}.${family}`, taken);
  const name = `${plan.role === 'physician' ? 'Dr. ' : ''}${given} ${family}`;
  const practitioner: WithId<Practitioner> = {
    resourceType: 'Practitioner',
    id: crypto.randomUUID(),
    active: true,
    identifier: [{ system: STAFF_ID_SYSTEM, value: `STAFF-${String(n).padStart(3, '0')}` }],
    name: [{ use: 'official', family, given: [given], ...(plan.role === 'physician' ? { prefix: ['Dr.'] } : {}) }],
    gender: sex,
    telecom: [{ system: 'email', value: `${username}@clinic.example.org`, use: 'work' }],
    ...(plan.role === 'physician' || plan.role === 'nurse'
      ? {
          qualification: [
            {
              code: {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/v2-0360',
                    code: plan.role === 'physician' ? 'MD' : 'RN',
                    display: plan.role === 'physician' ? 'Doctor of Medicine' : 'Registered Nurse',
                  },
                ],
              },
            },
          ],
        }
      : {}),
  };
  const standard = ROLE_CODINGS[plan.role];
  const specialty = SPECIALTIES[plan.department];
  const clinical = plan.role === 'physician' || plan.role === 'nurse';
  const locations = clinical
    ? wards.filter((w) => w.department === plan.department).map((w) => ({ reference: `Location/${w.location.id}`, display: w.location.name }))
    : [];
  const practitionerRole: WithId<PractitionerRole> = {
    resourceType: 'PractitionerRole',
    id: crypto.randomUUID(),
    active: true,
    practitioner: { reference: `Practitioner/${practitioner.id}`, display: name },
    organization: { reference: `Organization/${department.id}`, display: department.name },
    code: [{ coding: [{ system: CAREWALL_ROLE_SYSTEM, code: plan.role, display: plan.description }, ...(standard ? [standard] : [])], text: plan.description }],
    ...(specialty && (clinical || plan.role === 'lab') ? { specialty: [concept(SNOMED, specialty[0], specialty[1])] } : {}),
    ...(locations.length > 0 ? { location: locations } : {}),
    period: { start: faker.date.past({ years: 12 }).toISOString().slice(0, 10) },
  };
  return {
    role: plan.role,
    department: plan.department,
    name,
    practitioner,
    practitionerRole,
    login: {
      username,
      // Public by design (demo mode only); long enough for the password policy.
      password: `demo-${username}-2026`,
      roles: [plan.role],
      practitioner: `Practitioner/${practitioner.id}`,
      description: `${given} ${family}, ${plan.description}`,
    },
  };
}

/** 'dr.house', 'lisa.cuddy': lower-case [a-z0-9.-], made unique with a number when two staff share a name. */
export function uniqueUsername(base: string, taken: Set<string>): string {
  const clean = base
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '')
    .slice(0, 60);
  let name = clean;
  for (let i = 2; taken.has(name); i++) name = `${clean}${i}`;
  taken.add(name);
  return name;
}

/** Staff of one role, optionally of one department. */
export function staffWith(clinic: Clinic, role: Role, department?: DepartmentKey): StaffMember[] {
  return clinic.staff.filter((s) => s.role === role && (department === undefined || s.department === department));
}

export function wardOf(clinic: Clinic, department: DepartmentKey, physicalType?: 'wa' | 'area'): Ward {
  const candidates = clinic.wards.filter((w) => w.department === department);
  const typed = physicalType ? candidates.filter((w) => w.location.physicalType?.coding?.[0]?.code === physicalType) : candidates;
  return (typed[0] ?? candidates[0])!;
}
