/**
 * What every injected incident is made of: the Incident that tracks its events to write its truth,
 * and the helpers planners share (working days, patients the user has nothing to do with,
 * sessions of reads in the user's shift).
 */
import type { Scenario, TruthIncident } from '../catalog.js';
import { DAY, works, type Hospital, type Patient, type Staff } from './hospital.js';
import type { Sim } from './sim.js';

export const MINUTE = 60_000;

/** Tracks the events of one incident to write its truth. */
export class Incident {
  first = Infinity;
  last = -Infinity;
  readonly patients = new Set<Patient>();

  constructor(
    private readonly sim: Sim,
    readonly user: Staff,
    readonly scenario: Scenario,
    readonly stealth: 'plain' | 'stealthy',
  ) {}

  touch(p: Patient, t: number, reads: number, opts: { address?: string; emergency?: boolean; writes?: number } = {}): number {
    const end = this.sim.touch(this.user, p, t, reads, opts.writes ?? 0, { ...opts, misuse: true });
    this.patients.add(p);
    this.first = Math.min(this.first, t);
    this.last = Math.max(this.last, end);
    return end;
  }

  emit(t: number, interaction: 'export' | 'print' | 'search', patients: Patient[], address?: string): void {
    this.sim.emit(
      {
        t,
        user: this.user,
        address: address ?? this.sim.workstationAt(this.user, t),
        interaction,
        patients,
        resource: interaction === 'search' ? undefined : `Binary/${this.sim.id('out')}`,
      },
      true,
    );
    for (const p of patients) this.patients.add(p);
    this.first = Math.min(this.first, t);
    this.last = Math.max(this.last, t);
  }

  done(): TruthIncident | undefined {
    if (this.patients.size === 0 && this.first === Infinity) return undefined;
    // Events past the simulated period are dropped by the simulator; so is the incident then.
    if (this.first >= this.sim.h.start + this.sim.h.days * DAY) return undefined;
    const t: TruthIncident = {
      id: `inc-${this.sim.truth.length + 1}`,
      user: this.user.ref,
      patients: [...this.patients].map((p) => p.ref),
      scenario: this.scenario,
      window: { start: new Date(this.first).toISOString(), end: new Date(Math.min(this.last, this.sim.h.start + this.sim.h.days * DAY - 1)).toISOString() },
      stealth: this.stealth,
    };
    this.sim.truth.push(t);
    return t;
  }
}

export type Planner = (sim: Sim, user: Staff, day: number, onDone: (t: TruthIncident | undefined) => void) => boolean;

export function workingDays(h: Hospital, s: Staff, from: number, count: number, within: number): number[] {
  const out: number[] = [];
  for (let d = Math.max(0, from); d < Math.min(h.days - 1, from + within) && out.length < count; d++) if (works(h, s, d)) out.push(d);
  return out;
}

export function relatedTo(user: Staff, p: Patient): boolean {
  const a = user.person;
  const b = p.person;
  return a.family === b.family || a.street === b.street || a.phone === b.phone || p.labels.length > 0 || user.relatives.includes(p) || user.ownPatient === p;
}

/** A patient on file who has no care here in these weeks and nothing to do with the user. */
export function quietPatient(sim: Sim, user: Staff, mark = true): Patient | undefined {
  for (let i = 0; i < 200; i++) {
    const p = sim.rng.pick(sim.h.patients);
    if (p.visiting || p.targeted || relatedTo(user, p)) continue;
    if (mark) p.targeted = true;
    return p;
  }
  return undefined;
}

export function sessions(sim: Sim, inc: Incident, p: Patient, days: number[], perDay: number): void {
  for (const d of days) {
    for (let k = 0; k < perDay; k++) {
      const t = sim.timeInShift(inc.user, d);
      if (t !== undefined) inc.touch(p, t, sim.rng.int(1, 3));
    }
  }
}
