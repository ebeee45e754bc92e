/**
 * Small curated code tables for the demo clinic. Real codes from the real code systems (SNOMED CT,
 * ICD-10, LOINC, RxNorm, UCUM), so that the demo data looks like what an EHR or a FHIR client would
 * send, and so that code searches (Observation?code=http://loinc.org|8867-4) behave as in practice.
 * Kept to a dozen or so entries each: plausibility matters here, coverage does not.
 */
import type { CodeableConcept, Coding } from '@medplum/fhirtypes';

export const SNOMED = 'http://snomed.info/sct';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const LOINC = 'http://loinc.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const UCUM = 'http://unitsofmeasure.org';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export function concept(system: string, code: string, display: string, text = display): CodeableConcept {
  return { coding: [{ system, code, display }], text };
}

export function coding(system: string, code: string, display?: string): Coding {
  return display === undefined ? { system, code } : { system, code, display };
}

export interface ConditionCode {
  snomed: string;
  icd10: string;
  display: string;
  /** Chronic conditions get an active problem-list entry, long-term medication and an episode of care. */
  chronic: boolean;
  /** RxNorm codes of the medications typically prescribed for it. */
  medications: string[];
  /** Lab tests (LOINC) a physician would order to follow it up. */
  labs: string[];
  /** The youngest age at which the demo gives this condition, so children do not get heart failure. */
  minAge: number;
  /** HL7 sensitivity category: the diagnosis and its prescriptions are labelled with it (meta.security). */
  sensitivity?: string;
}

const SENSITIVITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** meta.security for a record about a sensitive condition, or nothing. */
export function sensitivityMeta(code: string | undefined): { meta?: { security: Array<{ system: string; code: string }> } } {
  return code ? { meta: { security: [{ system: SENSITIVITY_SYSTEM, code }] } } : {};
}

export const CONDITIONS: ConditionCode[] = [
  {
    snomed: '59621000',
    icd10: 'I10',
    display: 'Essential hypertension',
    chronic: true,
    medications: ['314076', '197361', '310798'],
    labs: ['24323-8'],
    minAge: 30,
  },
  { snomed: '44054006', icd10: 'E11.9', display: 'Type 2 diabetes mellitus', chronic: true, medications: ['860975'], labs: ['4548-4', '57698-3'], minAge: 25 },
  { snomed: '55822004', icd10: 'E78.5', display: 'Hyperlipidemia', chronic: true, medications: ['259255'], labs: ['57698-3'], minAge: 30 },
  { snomed: '195967001', icd10: 'J45.909', display: 'Asthma', chronic: true, medications: ['895994', '745679'], labs: [], minAge: 3 },
  { snomed: '13645005', icd10: 'J44.9', display: 'Chronic obstructive lung disease', chronic: true, medications: ['745679'], labs: ['58410-2'], minAge: 45 },
  { snomed: '49436004', icd10: 'I48.91', display: 'Atrial fibrillation', chronic: true, medications: ['855332', '866412'], labs: ['58410-2'], minAge: 50 },
  { snomed: '42343007', icd10: 'I50.9', display: 'Congestive heart failure', chronic: true, medications: ['313988', '866412'], labs: ['24323-8'], minAge: 55 },
  { snomed: '40930008', icd10: 'E03.9', display: 'Hypothyroidism', chronic: true, medications: ['966222'], labs: ['3016-3'], minAge: 18 },
  { snomed: '35489007', icd10: 'F32.9', display: 'Depressive disorder', chronic: true, medications: ['312938'], labs: [], minAge: 14, sensitivity: 'PSY' },
  { snomed: '396275006', icd10: 'M19.90', display: 'Osteoarthritis', chronic: true, medications: ['310965', '313782'], labs: [], minAge: 45 },
  { snomed: '233604007', icd10: 'J18.9', display: 'Pneumonia', chronic: false, medications: ['562251'], labs: ['58410-2'], minAge: 0 },
  { snomed: '68566005', icd10: 'N39.0', display: 'Urinary tract infectious disease', chronic: false, medications: ['308182'], labs: ['24356-8'], minAge: 3 },
  { snomed: '444814009', icd10: 'J01.90', display: 'Viral sinusitis', chronic: false, medications: ['313782'], labs: [], minAge: 0 },
  { snomed: '37796009', icd10: 'G43.909', display: 'Migraine', chronic: false, medications: ['310965'], labs: [], minAge: 10 },
];

export interface MedicationCode {
  rxnorm: string;
  display: string;
  dosage: string;
}

export const MEDICATIONS: Record<string, MedicationCode> = Object.fromEntries(
  [
    { rxnorm: '314076', display: 'lisinopril 10 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' },
    { rxnorm: '197361', display: 'amlodipine 5 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' },
    { rxnorm: '310798', display: 'hydrochlorothiazide 25 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every morning' },
    { rxnorm: '860975', display: '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet', dosage: 'Take 1 tablet by mouth with the evening meal' },
    { rxnorm: '259255', display: 'atorvastatin 80 MG Oral Tablet', dosage: 'Take 1 tablet by mouth at bedtime' },
    { rxnorm: '895994', display: '120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler', dosage: 'Inhale 2 puffs twice daily' },
    {
      rxnorm: '745679',
      display: '200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler',
      dosage: 'Inhale 2 puffs every 4 to 6 hours as needed for wheezing',
    },
    { rxnorm: '855332', display: 'warfarin sodium 5 MG Oral Tablet', dosage: 'Take as directed according to INR' },
    { rxnorm: '866412', display: '24 HR metoprolol succinate 100 MG Extended Release Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' },
    { rxnorm: '313988', display: 'furosemide 40 MG Oral Tablet', dosage: 'Take 1 tablet by mouth every morning' },
    { rxnorm: '966222', display: 'levothyroxine sodium 0.075 MG Oral Tablet', dosage: 'Take 1 tablet by mouth before breakfast' },
    { rxnorm: '312938', display: 'sertraline 100 MG Oral Tablet', dosage: 'Take 1 tablet by mouth once daily' },
    { rxnorm: '310965', display: 'ibuprofen 200 MG Oral Tablet', dosage: 'Take 1 to 2 tablets by mouth every 6 hours as needed for pain' },
    { rxnorm: '313782', display: 'acetaminophen 325 MG Oral Tablet', dosage: 'Take 2 tablets by mouth every 6 hours as needed' },
    { rxnorm: '308182', display: 'amoxicillin 250 MG Oral Capsule', dosage: 'Take 1 capsule by mouth three times daily for 7 days' },
    { rxnorm: '562251', display: 'amoxicillin 250 MG / clavulanate 125 MG Oral Tablet', dosage: 'Take 1 tablet by mouth twice daily for 10 days' },
  ].map((m) => [m.rxnorm, m]),
);

export interface AllergyCode {
  snomed: string;
  display: string;
  category: 'food' | 'medication' | 'environment';
}

export const ALLERGIES: AllergyCode[] = [
  { snomed: '91936005', display: 'Allergy to penicillin', category: 'medication' },
  { snomed: '294505008', display: 'Allergy to sulfonamides', category: 'medication' },
  { snomed: '91935009', display: 'Allergy to peanuts', category: 'food' },
  { snomed: '300913006', display: 'Shellfish allergy', category: 'food' },
  { snomed: '417532002', display: 'Allergy to fish', category: 'food' },
  { snomed: '300916003', display: 'Latex allergy', category: 'environment' },
  { snomed: '232350006', display: 'House dust mite allergy', category: 'environment' },
  { snomed: '418689008', display: 'Allergy to grass pollen', category: 'environment' },
  { snomed: '232347008', display: 'Dander (animal) allergy', category: 'environment' },
];

export const REACTIONS = [
  concept(SNOMED, '271807003', 'Eruption of skin'),
  concept(SNOMED, '247472004', 'Wheal'),
  concept(SNOMED, '49727002', 'Cough'),
  concept(SNOMED, '267036007', 'Dyspnea'),
  concept(SNOMED, '39579001', 'Anaphylaxis'),
];

/** Lab orders (LOINC) and the conclusions a report on them might give. */
export const LAB_TESTS: Record<string, { display: string; conclusions: string[] }> = {
  '58410-2': {
    display: 'CBC panel - Blood by Automated count',
    conclusions: ['Blood count within normal limits.', 'Mild normocytic anaemia.', 'Leukocytosis with neutrophilia, consistent with bacterial infection.'],
  },
  '24323-8': {
    display: 'Comprehensive metabolic 2000 panel - Serum or Plasma',
    conclusions: [
      'Electrolytes and renal function within normal limits.',
      'Mildly reduced eGFR; recheck in three months.',
      'Potassium slightly low; supplement and recheck.',
    ],
  },
  '4548-4': {
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    conclusions: ['HbA1c 6.8 %, near target.', 'HbA1c 8.1 %, above target; intensify treatment.', 'HbA1c 7.2 %, improved since last measurement.'],
  },
  '57698-3': {
    display: 'Lipid panel with direct LDL - Serum or Plasma',
    conclusions: ['LDL cholesterol at target.', 'LDL cholesterol above target on current statin dose.'],
  },
  '3016-3': {
    display: 'Thyrotropin [Units/volume] in Serum or Plasma',
    conclusions: ['TSH within reference range on current dose.', 'TSH elevated; increase levothyroxine.'],
  },
  '24356-8': {
    display: 'Urinalysis complete panel - Urine',
    conclusions: ['Leukocytes and nitrite positive, consistent with urinary tract infection.', 'Urinalysis unremarkable.'],
  },
};

/** Routine labs ordered without a specific condition (check-ups). */
export const ROUTINE_LABS = ['58410-2', '24323-8'];

export const PROCEDURES = [
  concept(SNOMED, '29303009', 'Electrocardiographic procedure'),
  concept(SNOMED, '399208008', 'Plain chest X-ray'),
  concept(SNOMED, '45036003', 'Ultrasonography of abdomen'),
  concept(SNOMED, '73761001', 'Colonoscopy'),
  concept(SNOMED, '288086009', 'Suture open wound'),
  concept(SNOMED, '80146002', 'Appendectomy'),
  concept(SNOMED, '76601001', 'Intramuscular injection'),
];

/** Encounter kinds: class (v3 ActCode) and type (SNOMED). */
export const ENCOUNTER_KINDS = [
  { class: coding(ACT_CODE, 'AMB', 'ambulatory'), type: concept(SNOMED, '185349003', 'Encounter for check up'), weight: 4 },
  { class: coding(ACT_CODE, 'AMB', 'ambulatory'), type: concept(SNOMED, '185345009', 'Encounter for symptom'), weight: 4 },
  { class: coding(ACT_CODE, 'AMB', 'ambulatory'), type: concept(SNOMED, '390906007', 'Follow-up encounter'), weight: 3 },
  { class: coding(ACT_CODE, 'EMER', 'emergency'), type: concept(SNOMED, '50849002', 'Emergency room admission'), weight: 1 },
  { class: coding(ACT_CODE, 'IMP', 'inpatient encounter'), type: concept(SNOMED, '32485007', 'Hospital admission'), weight: 1 },
];

export const DOCUMENT_TYPES = {
  progress: concept(LOINC, '11506-3', 'Progress note'),
  discharge: concept(LOINC, '18842-5', 'Discharge summary'),
  emergency: concept(LOINC, '34111-5', 'Emergency department Note'),
};

/** Vital signs (LOINC) with UCUM units and the plausible range the demo draws values from. */
export const VITALS = {
  weight: { code: '29463-7', display: 'Body weight', unit: 'kg' },
  heartRate: { code: '8867-4', display: 'Heart rate', unit: '/min' },
  bloodPressure: { code: '85354-9', display: 'Blood pressure panel with all children optional', unit: 'mm[Hg]' },
  systolic: { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]' },
  diastolic: { code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]' },
  temperature: { code: '8310-5', display: 'Body temperature', unit: 'Cel' },
} as const;
