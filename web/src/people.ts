/** People and access codes in words: roles as colleagues say them, break-the-glass reasons, patients. */
import type { PatientIdentity } from '../../src/api/index.js';
import { day } from './ui';

/** Each role as colleagues say it: one person, and the people who hold it. */
const ROLE: Record<string, [one: string, all: string]> = {
  physician: ['physician', 'physicians'],
  nurse: ['nurse', 'nurses'],
  receptionist: ['receptionist', 'receptionists'],
  billing: ['billing', 'billing staff'],
  lab: ['laboratory', 'laboratory staff'],
  'biomedical-engineer': ['biomedical engineer', 'biomedical engineers'],
  'privacy-officer': ['privacy officer', 'privacy officers'],
  'security-admin': ['security administrator', 'security administrators'],
  'awareness-officer': ['awareness officer', 'awareness officers'],
  admin: ['administrator', 'administrators'],
};

/** "physician, privacy officer" */
export function rolesInWords(roles: readonly string[]): string {
  return roles.map((r) => ROLE[r]?.[0] ?? r).join(', ');
}

/** "physicians" */
export function roleHolders(role: string): string {
  return ROLE[role]?.[1] ?? role;
}

/** The reasons a clinician gives for breaking the glass (access/grants.ts's codes), as the dialog words them. */
export const BREAK_GLASS_REASONS: Array<[string, string]> = [
  ['emergency-treatment', 'Emergency treatment'],
  ['patient-unable-to-consent', 'Patient unable to consent'],
  ['covering-clinician', 'Covering for a colleague'],
  ['urgent-result', 'Urgent result'],
  ['other', 'Other (explain below)'],
];

export function reasonInWords(code: string): string {
  if (code === 'other') return 'Other (see the justification)';
  return BREAK_GLASS_REASONS.find(([c]) => c === code)?.[1] ?? code;
}

/** "Ingrid Sorensen, born 11 Feb 1948, record number MRN-4471" */
export function patientInWords(p: PatientIdentity): string {
  return [p.name, p.birthDate ? `born ${day(p.birthDate)}` : null, p.mrn ? `record number ${p.mrn}` : null].filter(Boolean).join(', ');
}

/**
 * The misuse monitor's scenarios (src/monitor/catalog.ts: codes that stay stable) as a privacy
 * officer says them; docs/monitor.md has each in full.
 */
const SCENARIOS: Record<string, string> = {
  family: 'family or household',
  coworker: 'a co-worker’s chart',
  neighbour: 'a neighbour’s chart',
  vip: 'VIP or celebrity',
  self: 'their own chart',
  curiosity: 'curiosity',
  department: 'another department’s patient',
  volume: 'unusually many patients',
  harvesting: 'harvesting before leaving',
  terminated: 'an account that should be inactive',
  credentials: 'shared or stolen credentials',
  export: 'mass export or print',
  enumeration: 'sweeping through records',
  'break-glass': 'emergency access overused',
  repeat: 'repeat offender',
};

export function scenarioInWords(code: string): string {
  return SCENARIOS[code] ?? code;
}
