/** Deterministic synthetic data for benchmarks (no faker: the same bytes in every run). */
import { Rng } from '../src/util/index.js';

/** The project's seeded generator (src/util/random.ts), as a function. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

export function randomPick<T>(random: () => number, items: T[]): T {
  return items[Math.floor(random() * items.length)];
}

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
];

function word(random: () => number, parts: number): string {
  let w = '';
  for (let i = 0; i < parts; i++) w += randomPick(random, SYLLABLES);
  return w[0].toUpperCase() + w.slice(1);
}

export function syntheticPatient(random: () => number, n: number) {
  const year = 1930 + Math.floor(random() * 90);
  const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
  const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
  return {
    resourceType: 'Patient' as const,
    identifier: [{ system: 'urn:carewall:bench:mrn', value: `B-${String(n).padStart(7, '0')}` }],
    name: [{ family: word(random, 3), given: [word(random, 2)] }],
    gender: random() < 0.5 ? ('female' as const) : ('male' as const),
    birthDate: `${year}-${month}-${day}`,
    address: [{ line: [`${Math.floor(random() * 200)} ${word(random, 2)} Street`], city: word(random, 2) }],
    telecom: [{ system: 'phone' as const, value: `+1-555-${String(Math.floor(random() * 1e7)).padStart(7, '0')}` }],
  };
}

const VITALS = [
  { code: '8867-4', unit: '/min', low: 50, high: 110 },
  { code: '29463-7', unit: 'kg', low: 40, high: 130 },
  { code: '8310-5', unit: 'Cel', low: 36, high: 39.5 },
];

export function syntheticObservation(random: () => number, patientId: string) {
  const v = randomPick(random, VITALS);
  const day = 1 + Math.floor(random() * 365 * 3);
  return {
    resourceType: 'Observation' as const,
    status: 'final' as const,
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: v.code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: new Date(Date.UTC(2022, 0, day, 9)).toISOString(),
    valueQuantity: { value: Math.round((v.low + random() * (v.high - v.low)) * 10) / 10, unit: v.unit, system: 'http://unitsofmeasure.org', code: v.unit },
  };
}
