/**
 * Who a person is, as the records write it: name, birth date, phone numbers, addresses and streets,
 * normalised so that the same person (or household, or street) written two ways compares equal.
 * Staff and patients are read alike: personal ties are matches between the two.
 */
import type { Json } from '../ndjson.js';

export interface Identity {
  family?: string;
  given?: string;
  birthDate?: string;
  phones: string[];
  addresses: string[];
  streets: string[];
}

export function normalise(s: unknown): string {
  return typeof s === 'string'
    ? s
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, ' ')
        .trim()
    : '';
}

function phoneKey(v: unknown): string {
  const digits = typeof v === 'string' ? v.replace(/\D/g, '') : '';
  // The last nine digits: the same number written with or without a country or area prefix.
  return digits.length >= 6 ? digits.slice(-9) : '';
}

export function identityOf(r: Json): Identity {
  const name = (r.name ?? []).find((n: Json) => n.use === 'official') ?? (r.name ?? [])[0];
  const phones = new Set<string>();
  for (const t of r.telecom ?? []) if (!t.system || t.system === 'phone' || t.system === 'sms') phones.add(phoneKey(t.value));
  phones.delete('');
  const addresses = new Set<string>();
  const streets = new Set<string>();
  for (const a of r.address ?? []) {
    const line = normalise((a.line ?? []).join(' '));
    const place = normalise(a.postalCode) || normalise(a.city);
    if (!line || !place) continue;
    addresses.add(`${line}|${place}`);
    // The street without the house number: "12 Elm Street" and "40 Elm Street" are neighbours.
    const street = line
      .replace(/\b\d+[a-z]?\b/g, '')
      .replace(/\b(apt|flat|unit)\b.*$/, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (street) streets.add(`${street}|${normalise(a.city) || place}`);
  }
  return {
    family: normalise(name?.family) || undefined,
    given: normalise((name?.given ?? [])[0]) || undefined,
    birthDate: typeof r.birthDate === 'string' ? r.birthDate : undefined,
    phones: [...phones],
    addresses: [...addresses],
    streets: [...streets],
  };
}

export function nameBirthKey(id: Identity): string | undefined {
  return id.family && id.given && id.birthDate ? `${id.family}|${id.given}|${id.birthDate}` : undefined;
}
