/**
 * The alerts of one detection run: each (user, scenario, window) once, with a stable id, and the
 * time windows that account-level and bulk alerts cover (the pairs inside them are part of that
 * incident, not curiosities of their own). Also the wording evidence shares.
 */
import { createHash } from 'node:crypto';
import type { Alert, Scenario } from '../catalog.js';
import type { Pair } from './accumulate.js';
import type { ReferenceData, User } from './reference.js';
import { clampScore } from './stats.js';

export const NO_LINK = 'no appointment, encounter, care team or order links the user to the patient';

/** A time as its calendar day (UTC), for evidence. */
export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A count or rate for evidence: whole above 10, one decimal below. */
export const fmt = (x: number) => (x >= 10 ? Math.round(x).toString() : x.toFixed(1));

export class AlertSet {
  readonly alerts: Alert[] = [];
  private readonly consumed = new Map<number, Array<[number, number]>>();

  constructor(private readonly ref: ReferenceData) {}

  emit(user: User, scenario: Scenario, patients: number[], first: number, last: number, score: number, evidence: string[], consumes: boolean): Alert {
    const id = 'mon-' + createHash('sha256').update(`${user.ref}|${scenario}|${first}|${last}`).digest('hex').slice(0, 16);
    const same = this.alerts.find((a) => a.id === id);
    if (same) {
      // The same incident seen from two sides (both networks of a pair): one alert.
      same.patients = [...new Set([...same.patients, ...patients.map((i) => this.ref.patients[i].ref)])];
      same.evidence = [...new Set([...same.evidence, ...evidence])];
      same.score = Math.max(same.score, clampScore(score));
      return same;
    }
    const alert: Alert = {
      id,
      user: user.ref,
      patients: [...new Set(patients)].map((i) => this.ref.patients[i].ref),
      scenario,
      score: clampScore(score),
      firstAccess: new Date(first).toISOString(),
      lastAccess: new Date(last).toISOString(),
      evidence,
    };
    this.alerts.push(alert);
    if (consumes) {
      const list = this.consumed.get(user.idx) ?? [];
      list.push([first - 3_600_000, last + 3_600_000]);
      this.consumed.set(user.idx, list);
    }
    return alert;
  }

  isConsumed(p: Pair): boolean {
    return this.covered(p.user, p.first, p.last);
  }

  /** Part of an incident an earlier (account-level or bulk) alert already covers. */
  covered(user: number, first: number, last: number): boolean {
    for (const [a, b] of this.consumed.get(user) ?? []) if (first <= b && last >= a) return true;
    return false;
  }
}
