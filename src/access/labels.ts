/**
 * Security labels (FHIR meta.security). Two kinds matter to access:
 *  - sensitivity categories on a resource (HL7 v3 ActInformationSensitivityPolicy: PSY, HIV, SUD,
 *    ETH, SDV, STD, SEX, ...): the resource is shown only to those whose role or department may see
 *    that category, over a direct care relationship;
 *  - restriction markers on a Patient (confidentiality V "very restricted", CEL celebrity, EMP
 *    employee, and VIP): no ward- or department-wide access, only direct relationships, and every
 *    access is flagged for review.
 *
 * The records store keeps each version's labels as blind-index digests (a copy of the database does
 * not say which rows are about HIV); the access rules compare digests of the categories a caller may
 * not see against them.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { BlindIndex } from '../keys/index.js';

export const SENSITIVE_CATEGORIES = [
  'ETH', // substance abuse (HL7: ethanol/ETH)
  'SUD', // substance use disorder
  'PSY', // psychiatric disorder
  'PSYTHPN', // psychotherapy note
  'BH', // behavioural health
  'HIV',
  'STD', // sexually transmitted disease
  'SEX', // sexuality and reproductive health
  'SDV', // sexual assault, abuse or domestic violence
  'GDIS', // genetic disease
  'SCA', // sickle cell anaemia
  'MST', // military sexual trauma
  'TBOO', // taboo
] as const;

export const RESTRICTED_PATIENT_CODES = ['V', 'CEL', 'EMP', 'VIP'] as const;

const LABEL_PARAM = '_security';

/** The codes of a resource's meta.security labels, upper-cased and without systems. */
export function securityCodes(resource: Resource): string[] {
  const codes = new Set<string>();
  for (const c of resource.meta?.security ?? []) if (typeof c.code === 'string' && c.code !== '') codes.add(c.code.toUpperCase());
  return [...codes].sort();
}

export function labelDigest(blind: BlindIndex, code: string): string {
  return blind.token(LABEL_PARAM, code.toUpperCase()).toString('hex');
}

/** What the store writes beside each version. */
export function labelDigests(blind: BlindIndex, resource: Resource): string[] {
  return securityCodes(resource).map((c) => labelDigest(blind, c));
}

export function isRestrictedPatient(resource: Resource): boolean {
  const codes = securityCodes(resource);
  return RESTRICTED_PATIENT_CODES.some((c) => codes.includes(c));
}

export function isSensitiveCategory(code: string): boolean {
  return (SENSITIVE_CATEGORIES as readonly string[]).includes(code.toUpperCase());
}
