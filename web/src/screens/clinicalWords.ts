/**
 * Observations as people write them: blood pressure as "120/80 mmHg", units as on a chart (°C, not
 * the UCUM code "Cel"), an age beside a birth date, and abnormal values said in words.
 */
import type { CodeableConcept, Observation, ObservationComponent, ObservationReferenceRange, Quantity } from '@medplum/fhirtypes';

export const label = (c?: CodeableConcept) => c?.text ?? c?.coding?.[0]?.display ?? c?.coding?.[0]?.code ?? '—';

/** Common UCUM codes and how a clinician writes them; a code not listed is shown as given. */
const UCUM: Record<string, string> = {
  Cel: '°C',
  '[degF]': '°F',
  'mm[Hg]': 'mmHg',
  '/min': '/min',
  '{beats}/min': 'beats/min',
  '{breaths}/min': 'breaths/min',
  '%': '%',
  kg: 'kg',
  g: 'g',
  '[lb_av]': 'lb',
  cm: 'cm',
  m: 'm',
  '[in_i]': 'in',
  'kg/m2': 'kg/m²',
  'mg/dL': 'mg/dL',
  'mmol/L': 'mmol/L',
  'umol/L': 'µmol/L',
  'g/dL': 'g/dL',
  'g/L': 'g/L',
  'U/L': 'U/L',
  'mL/min/{1.73_m2}': 'mL/min/1.73 m²',
  '10*3/uL': '×10³/µL',
  '10*6/uL': '×10⁶/µL',
  '10*9/L': '×10⁹/L',
  '10*12/L': '×10¹²/L',
  ug: 'µg',
  mg: 'mg',
  uL: 'µL',
  mL: 'mL',
  L: 'L',
  'meq/L': 'mEq/L',
  'mmol/mol': 'mmol/mol',
  'ng/mL': 'ng/mL',
  'pg/mL': 'pg/mL',
  'mU/L': 'mU/L',
  '[iU]/L': 'IU/L',
  s: 's',
  h: 'h',
};

/** The unit of a quantity as written on a chart: its code's usual form, else its unit text. */
export function unitOf(q?: Pick<Quantity, 'unit' | 'code' | 'system'>): string {
  if (!q) return '';
  if (q.unit && UCUM[q.unit]) return UCUM[q.unit];
  if (q.code && UCUM[q.code]) return UCUM[q.code];
  return q.unit ?? q.code ?? '';
}

const quantity = (q?: Quantity) => (q && typeof q.value === 'number' ? `${q.value} ${unitOf(q)}`.trim() : null);

const LOINC = 'http://loinc.org';
export const SYSTOLIC = '8480-6';
export const DIASTOLIC = '8462-4';
const hasCode = (c: CodeableConcept | undefined, code: string) => (c?.coding ?? []).some((x) => x.code === code && (!x.system || x.system === LOINC));
export const componentOf = (o: Observation, code: string) => o.component?.find((c) => hasCode(c.code, code));

/** Systolic and diastolic of a blood pressure panel, when both are numbers. */
export function bloodPressure(o: Observation): { systolic: Quantity; diastolic: Quantity } | null {
  const s = componentOf(o, SYSTOLIC)?.valueQuantity;
  const d = componentOf(o, DIASTOLIC)?.valueQuantity;
  return typeof s?.value === 'number' && typeof d?.value === 'number' ? { systolic: s, diastolic: d } : null;
}

function valueOfComponent(c: ObservationComponent): string {
  return quantity(c.valueQuantity) ?? c.valueString ?? (c.valueCodeableConcept ? label(c.valueCodeableConcept) : '—');
}

/** An observation's value in words: "120/80 mmHg" for blood pressure, each component otherwise. */
export function valueText(o: Observation): string {
  const bp = bloodPressure(o);
  if (bp) return `${bp.systolic.value}/${bp.diastolic.value} ${unitOf(bp.systolic) || unitOf(bp.diastolic)}`.trim();
  const own = quantity(o.valueQuantity) ?? o.valueString ?? (o.valueCodeableConcept ? label(o.valueCodeableConcept) : null);
  if (own) return own;
  if (o.component?.length) return o.component.map((c) => `${label(c.code)} ${valueOfComponent(c)}`).join('; ');
  return '—';
}

/** HL7 observation interpretation codes, in words. N (normal) says nothing. */
const INTERPRETATION: Record<string, string> = {
  H: 'high',
  L: 'low',
  HH: 'critically high',
  LL: 'critically low',
  HU: 'very high',
  LU: 'very low',
  A: 'abnormal',
  AA: 'critically abnormal',
  POS: 'positive',
  DET: 'detected',
  R: 'resistant',
  '>': 'above the measurable range',
  '<': 'below the measurable range',
};

function interpreted(list?: CodeableConcept[]): string[] {
  const out: string[] = [];
  for (const c of list ?? []) for (const coding of c.coding ?? []) if (coding.code && INTERPRETATION[coding.code]) out.push(INTERPRETATION[coding.code]);
  return out;
}

function outOfRange(q: Quantity | undefined, ranges?: ObservationReferenceRange[]): string[] {
  if (typeof q?.value !== 'number') return [];
  const r = ranges?.[0];
  if (!r) return [];
  if (typeof r.high?.value === 'number' && q.value > r.high.value) return [`high (above ${r.high.value} ${unitOf(r.high)})`.replace(' )', ')')];
  if (typeof r.low?.value === 'number' && q.value < r.low.value) return [`low (below ${r.low.value} ${unitOf(r.low)})`.replace(' )', ')')];
  return [];
}

/**
 * Why a value is abnormal, in words ("high", "systolic high"), from its interpretation codes and,
 * when there are none, its reference range. Empty when nothing says it is abnormal.
 */
export function abnormal(o: Observation): string[] {
  const own = interpreted(o.interpretation);
  const flags = own.length ? own : outOfRange(o.valueQuantity, o.referenceRange);
  for (const c of o.component ?? []) {
    const codes = interpreted(c.interpretation);
    const words = codes.length ? codes : outOfRange(c.valueQuantity, c.referenceRange);
    const name = hasCode(c.code, SYSTOLIC) ? 'systolic' : hasCode(c.code, DIASTOLIC) ? 'diastolic' : label(c.code);
    for (const w of words) flags.push(`${name} ${w}`);
  }
  return [...new Set(flags)];
}

/** Age in whole years (months, then days, for the very young) on a given day. */
export function ageOf(birthDate?: string, now = new Date()): string | null {
  if (!birthDate || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return null;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number);
  let months = (now.getFullYear() - y) * 12 + (now.getMonth() + 1 - m);
  if (now.getDate() < d) months--;
  if (months < 0) return null;
  if (months >= 24) {
    const years = Math.floor(months / 12);
    return `${years} years`;
  }
  if (months >= 1) return `${months} month${months === 1 ? '' : 's'}`;
  const days = Math.floor((now.getTime() - Date.UTC(y, m - 1, d)) / 86_400_000);
  return `${Math.max(0, days)} day${days === 1 ? '' : 's'}`;
}
