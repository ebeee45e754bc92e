/** Small helpers shared by the demo generators: references, FHIR date formats, time arithmetic. */
import crypto from 'node:crypto';
import type { Reference, Resource } from '@medplum/fhirtypes';

const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/**
 * Ids are assigned here, not by the server, so that a patient's resources can reference each other
 * before any of them is written, and all of them can be written in one transaction.
 */
export function newId(): string {
  return crypto.randomUUID();
}

export function ref<T extends Resource>(resource: T & { id: string }, display?: string): Reference<T> {
  const reference = `${resource.resourceType}/${resource.id}`;
  return display === undefined ? { reference } : { reference, display };
}

export function addMinutes(date: Date, minutes: number): Date {
  return new Date(date.getTime() + minutes * MINUTE);
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY);
}

/** FHIR dateTime / instant, to the second, in UTC. */
export function dateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** FHIR date (YYYY-MM-DD), in UTC. */
export function dateOnly(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Whole years between two dates. */
export function yearsBetween(from: Date, to: Date): number {
  let years = to.getUTCFullYear() - from.getUTCFullYear();
  const beforeBirthday = to.getUTCMonth() < from.getUTCMonth() || (to.getUTCMonth() === from.getUTCMonth() && to.getUTCDate() < from.getUTCDate());
  if (beforeBirthday) years--;
  return years;
}

/** Midnight UTC of the given instant's day: the demo's dates are relative to it. */
export function startOfDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Rounds to one decimal place, as vital signs are charted. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
