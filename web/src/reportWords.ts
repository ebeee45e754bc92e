/**
 * A patient's access report in words the patient understands: what was done to their record, to
 * which part of it, and why it was allowed, without codes, record ids or user names.
 */
import type { ReportLine } from '../../src/api/index.js';
import { rolesInWords } from './people';

const ACTIONS: Record<string, string> = {
  read: 'looked at',
  vread: 'looked at',
  search: 'found, in a search,',
  history: 'looked at the earlier versions of',
  create: 'added',
  update: 'changed',
  delete: 'removed',
  export: 'copied out (export)',
  print: 'printed',
  'break-glass.start': 'opened your record in an emergency',
  'break-glass.review': 'reviewed an emergency opening of your record',
  'investigation.start': 'opened your record for a privacy investigation',
  'investigation.review': 'reviewed a privacy investigation of your record',
  'flagged-access.review': 'reviewed an access to your record that had been flagged',
};

const PARTS: Record<string, string> = {
  Patient: 'your personal details',
  Observation: 'a test result or measurement',
  DiagnosticReport: 'a test report',
  Condition: 'a diagnosis or health problem',
  MedicationRequest: 'a prescription',
  MedicationStatement: 'a medicine you take',
  AllergyIntolerance: 'an allergy',
  Procedure: 'a procedure',
  Immunization: 'a vaccination',
  Encounter: 'a visit or hospital stay',
  Appointment: 'an appointment',
  ServiceRequest: 'an order for a test or treatment',
  CarePlan: 'a care plan',
  CareTeam: 'your care team',
  DocumentReference: 'a document',
  Consent: 'a consent you gave',
  EpisodeOfCare: 'a course of care',
};

const RELATIONSHIPS: Record<string, string> = {
  'general-practitioner': 'your family doctor',
  'care-team': 'a member of your care team',
  encounter: 'part of your visit or stay',
  appointment: 'you had an appointment with them',
  'service-request': 'they ordered or carried out a test or treatment for you',
  'episode-of-care': 'they manage your ongoing care',
  ward: 'they work on the ward where you stayed',
};

/** "Ines Moreau (physician)" */
export function whoInWords(line: Pick<ReportLine, 'user' | 'userName' | 'roles'>): string {
  const roles = rolesInWords(line.roles);
  return `${line.userName ?? line.user}${roles ? ` (${roles})` : ''}`;
}

/** "looked at a test result or measurement" */
export function whatInWords(line: Pick<ReportLine, 'action' | 'resource'>): string {
  const verb = ACTIONS[line.action] ?? line.action;
  if (line.action.includes('.')) return verb;
  const type = line.resource?.split('/')[0];
  const part = type ? (PARTS[type] ?? 'a part of your record') : 'your record';
  return `${verb} ${part}`;
}

/** Why it was allowed (or that it was not). */
export function whyInWords(line: Pick<ReportLine, 'outcome' | 'basis' | 'relationships' | 'why' | 'purposeOfUse'>): string {
  if (line.outcome !== 'success') return 'It was not allowed, and nothing was shown.';
  if (line.basis === 'break-glass') return 'An emergency: the access was recorded and reviewed by the privacy office.';
  if (line.basis === 'investigation') return 'A privacy investigation by the clinic.';
  const ways = (line.relationships ?? []).map((k) => RELATIONSHIPS[k]).filter(Boolean);
  if (ways.length > 0) return `Your care: ${[...new Set(ways)].join('; ')}.`;
  if (line.purposeOfUse === 'HCOMPL') return 'The clinic’s privacy and compliance work.';
  return line.why || 'Allowed by the clinic’s access rules.';
}
