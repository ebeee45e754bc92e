/**
 * Hospital conventions the detectors must not assume: how many staff are patients, how many live
 * on the streets around the hospital, how common surnames are, how many VIPs there are and how
 * many people open a VIP's chart during a stay, float staff, shared workstations, and how much
 * legitimate work leaves no link in the records. `drawConventions` draws them from wide ranges,
 * seeded, so that a monitor tuned on some draws can be scored on others it has never seen.
 * The defaults are the simulator's original hospital (same seed, same bytes).
 */
import type { Hospital, Patient, Staff } from './hospital.js';
import { hashUnit, Rng } from './random.js';
import type { Sim } from './sim.js';

export interface Conventions {
  /** Share of staff who are patients of the hospital too. */
  staffPatients: number;
  /** Share of staff who live on the few streets next to the hospital (and of patients who do too). */
  nearby: number;
  /** Patients per surname (about): low is many surnames, high is a few common ones. */
  perSurname: number;
  /** Share of patients labelled VIP. */
  vip: number;
  /** Staff of the department (not linked) who open an admitted VIP's chart each day. */
  vipCrowd: number;
  /** Share of nurses who float to a second ward. */
  float: number;
  /** Workstations per ward (fewer is more sharing). */
  wardHosts: number;
  /** Unlinked chart opens per working clinician per day: covering, corridor consults, phone calls. */
  unlinked: number;
  /** Share of unlinked opens that are of a colleague who is a patient (staff treated by staff). */
  colleagueCare: number;
  /** Share of clinicians' unlinked opens that come from home (remote work, another network). */
  remote: number;
}

export const DEFAULT_CONVENTIONS: Conventions = {
  staffPatients: 0.35,
  nearby: 0,
  perSurname: 12,
  vip: 0.006,
  vipCrowd: 0,
  float: 0.12,
  wardHosts: 5,
  unlinked: 0,
  colleagueCare: 0,
  remote: 0,
};

const between = (rng: Rng, lo: number, hi: number) => lo + rng.next() * (hi - lo);

/** A hospital's conventions drawn from wide ranges; the same draw number gives the same conventions. */
export function drawConventions(draw: number): Conventions {
  const rng = new Rng(draw * 7919 + 104729);
  return {
    staffPatients: between(rng, 0.1, 0.7),
    nearby: between(rng, 0, 0.6),
    perSurname: between(rng, 6, 60),
    vip: between(rng, 0.002, 0.02),
    vipCrowd: between(rng, 0, 12),
    float: between(rng, 0.05, 0.4),
    wardHosts: rng.int(1, 6),
    unlinked: between(rng, 0.2, 3),
    colleagueCare: between(rng, 0, 0.1),
    remote: between(rng, 0, 0.3),
  };
}

/** The streets next to the hospital: the first few of the hospital's streets. */
export function nearbyStreets(h: Pick<Hospital, 'streets'>): number {
  return Math.max(2, Math.round(h.streets.length / 60));
}

/**
 * Legitimate work the records do not link: each working clinician opens a few charts a day that
 * no encounter, appointment, care team or order names them on (a patient of the department, one
 * admitted elsewhere, now and then a colleague), and an admitted VIP's chart is opened by many of
 * the department's staff. None of it is an incident; all of it is what a real log holds.
 */
export function unlinkedWork(sim: Sim, conv: Conventions, day: number): void {
  if (conv.unlinked <= 0 && conv.vipCrowd <= 0) return;
  const { h } = sim;
  const rng = new Rng(h.seed * 31 + day * 1_000_003 + 7);
  const inpatients = sim.activeInpatients();
  const staffPatients = h.patients.filter((p) => p.staff);
  const clinicians = sim.working([...h.byRole.nurse, ...h.byRole.physician], day).filter((s) => !s.busy);
  for (const s of clinicians) {
    const n = rng.poisson(conv.unlinked);
    for (let i = 0; i < n; i++) {
      let p: Patient | undefined;
      const x = rng.next();
      if (x < conv.colleagueCare && staffPatients.length > 0) p = rng.pick(staffPatients);
      else if (x < 0.6 && inpatients.length > 0) p = rng.pick(inpatients).enc.patient;
      else p = rng.pick(h.patients);
      if (!p || p.targeted || p.staff === s) continue;
      touchAt(sim, s, p, day, rng, conv);
    }
  }
  if (conv.vipCrowd <= 0) return;
  for (const { enc } of inpatients) {
    if (!enc.patient.labels.includes('VIP') || enc.patient.targeted) continue;
    const dept = clinicians.filter((s) => s.dept === enc.dept);
    for (const s of rng.shuffle([...dept]).slice(0, rng.poisson(conv.vipCrowd))) touchAt(sim, s, enc.patient, day, rng, conv);
  }
}

function touchAt(sim: Sim, s: Staff, p: Patient, day: number, rng: Rng, conv: Conventions): void {
  const t = sim.timeInShift(s, day);
  if (t === undefined) return;
  const home = hashUnit(sim.h.seed, s.idx, 41) < conv.remote ? `172.${16 + (s.idx % 16)}.${s.idx % 250}.${2 + (day % 200)}` : undefined;
  sim.touch(s, p, t, rng.int(1, 2), 0, home ? { address: home } : {});
}
