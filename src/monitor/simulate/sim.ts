/**
 * The simulated weeks: legitimate work, day by day. Inpatients on wards (rounds by their
 * department's physicians, care by the ward's nurses on three shifts, lab orders, consults across
 * departments, billing after discharge), outpatient appointments booked ahead by the front office
 * and checked in on the day, emergency visits around the clock (with break-the-glass before the
 * encounter is registered), care teams reviewing their patients, float nurses and overtime.
 * Incidents (incidents.ts) add their events to the same days.
 */
import type { TruthIncident } from '../catalog.js';
import { auditEvent, type AppointmentRec, type CareTeamRec, type EncounterRec, type Interaction, type ServiceRequestRec, type SimEvent } from './fhir.js';
import { DAY, HOUR, shiftWindow, works, type Dept, type Hospital, type Patient, type Staff, type Ward } from './hospital.js';
import { hashUnit, Rng } from './random.js';

const MINUTE = 60_000;
const READ_TYPES = ['Observation', 'Condition', 'MedicationRequest', 'DocumentReference', 'DiagnosticReport', 'AllergyIntolerance'];
const WRITE_TYPES = ['Observation', 'Observation', 'Condition', 'MedicationRequest', 'Procedure'];

export class Sim {
  readonly encounters: EncounterRec[] = [];
  readonly appointments: AppointmentRec[] = [];
  readonly careTeams: CareTeamRec[] = [];
  readonly serviceRequests: ServiceRequestRec[] = [];
  readonly truth: TruthIncident[] = [];
  private readonly buckets = new Map<number, SimEvent[]>();
  private readonly hooks = new Map<number, Array<() => void>>();
  private readonly pendingBilling = new Map<number, Patient[]>();
  private readonly pendingReviews = new Map<number, Array<{ staff: Staff; patient: Patient }>>();
  private readonly inpatients = new Map<Ward, EncounterRec[]>();
  private readonly visiting: Patient[];
  private counter = 0;
  private nextEventId = 1;
  currentDay = 0;

  constructor(
    readonly h: Hospital,
    readonly rng: Rng,
  ) {
    this.visiting = h.patients.filter((p) => p.visiting);
  }

  id(prefix: string): string {
    return `${prefix}-${++this.counter}`;
  }

  dayStart(day: number): number {
    return this.h.start + day * DAY;
  }

  emit(e: SimEvent, misuse = false): void {
    // Staff do not book, bill or care for themselves in the simulation; a colleague does.
    if (!misuse && e.patients.some((p) => p.staff?.idx === e.user.idx)) {
      e = { ...e, patients: e.patients.filter((p) => p.staff?.idx !== e.user.idx) };
      if (e.patients.length === 0) return;
    }
    const day = Math.floor((e.t - this.h.start) / DAY);
    if (day < this.currentDay) throw new Error('simulator bug: an event was made for a day already written');
    if (day >= this.h.days) return;
    const list = this.buckets.get(day);
    if (list) list.push(e);
    else this.buckets.set(day, [e]);
  }

  onDay(day: number, fn: () => void): void {
    const list = this.hooks.get(day) ?? [];
    list.push(fn);
    this.hooks.set(day, list);
  }

  /**
   * One look at a chart: the patient, some of the record, and any writes, a few tens of seconds
   * apart. Returns the time of the last event.
   */
  touch(
    s: Staff,
    p: Patient,
    t: number,
    reads: number,
    writes: number,
    opts: { address?: string; emergency?: boolean; patientRead?: boolean; misuse?: boolean } = {},
  ): number {
    // Staff do not do their own paperwork or care: a colleague does (self-lookups are incidents only).
    if (p.staff && p.staff.idx === s.idx && !opts.misuse) return t;
    let time = t;
    const ev = (interaction: Interaction, resource?: string) => {
      const address = opts.address ?? this.workstationAt(s, time);
      this.emit({ t: time, user: s, address, interaction, patients: [p], resource, emergency: opts.emergency }, opts.misuse);
      time += this.rng.int(10, 90) * 1000;
    };
    if (opts.emergency) ev('break-glass');
    if (opts.patientRead !== false) ev('read', p.ref);
    for (let i = 0; i < reads; i++) ev('read', `${this.rng.pick(READ_TYPES)}/r${this.rng.int(1, 999_999)}`);
    for (let i = 0; i < writes; i++) ev(this.rng.chance(0.8) ? 'create' : 'update', `${this.rng.pick(WRITE_TYPES)}/${this.id('w')}`);
    return time;
  }

  /** People sit at one workstation for a while: the one of this two-hour block of the day. */
  workstationAt(s: Staff, t: number): string {
    return s.workstations[Math.floor(hashUnit(this.h.seed, s.idx, Math.floor(t / (2 * HOUR))) * s.workstations.length)];
  }

  /** A time inside the staff member's shift that starts on `day`, within [from, to] if given. */
  timeInShift(s: Staff, day: number, from = -Infinity, to = Infinity): number | undefined {
    const [a, b] = shiftWindow(this.h, s, day);
    const lo = Math.max(a + 10 * MINUTE, from);
    const hi = Math.min(b - 20 * MINUTE, to);
    if (hi <= lo) return undefined;
    return lo + this.rng.next() * (hi - lo);
  }

  working(list: Staff[], day: number): Staff[] {
    return list.filter((s) => works(this.h, s, day));
  }

  /** A visiting patient for ordinary care, never a staff member's own chart in their own department. */
  careablePatient(dept: Dept): Patient | undefined {
    for (let i = 0; i < 30; i++) {
      const p = this.rng.pick(this.visiting);
      if (p.staff && p.staff.dept === dept) continue;
      if (p.inpatientUntil > this.dayStart(this.currentDay)) continue;
      return p;
    }
    return undefined;
  }

  activeInpatients(): Array<{ ward: Ward; enc: EncounterRec }> {
    const out: Array<{ ward: Ward; enc: EncounterRec }> = [];
    for (const [ward, list] of this.inpatients) for (const enc of list) out.push({ ward, enc });
    return out;
  }

  /** Plans the outpatient appointments of the whole period (and three weeks beyond, booked inside it). */
  planAppointments(): void {
    const { h, rng } = this;
    const clinicians = h.byRole.physician.filter((s) => s.dept.kind === 'clinical');
    for (let v = 0; v < h.days + 21; v++) {
      for (const s of clinicians) {
        if (!works(h, s, v)) continue;
        const n = rng.poisson(4);
        for (let k = 0; k < n; k++) {
          const p = rng.pick(this.visiting);
          if (p.staff && p.staff.dept === s.dept) continue;
          const start = this.dayStart(v) + (8.5 + rng.next() * 7.5) * HOUR;
          const lead = rng.int(1, 21);
          const created = this.dayStart(v - lead) + (9 + rng.next() * 6) * HOUR;
          const status = v >= h.days ? 'booked' : rng.chance(0.08) ? 'noshow' : 'fulfilled';
          this.appointments.push({ id: this.id('appt'), patient: p, physician: s, dept: s.dept, start, created, status });
        }
      }
    }
    for (const c of this.visiting) {
      if (!rng.chance(0.05)) continue;
      const doctor = rng.pick(clinicians);
      const nurse = this.h.byRole.nurse.find((n) => n.dept === doctor.dept && rng.chance(0.3));
      if (c.staff && c.staff.dept === doctor.dept) continue;
      this.careTeams.push({
        id: this.id('ct'),
        patient: c,
        members: nurse ? [doctor, nurse] : [doctor],
        dept: doctor.dept,
        start: h.start - rng.int(30, 400) * DAY,
      });
    }
  }

  /** All events of one day, in time order, as AuditEvents. */
  *day(day: number): Generator<Record<string, unknown>> {
    this.currentDay = day;
    for (const fn of this.hooks.get(day) ?? []) fn();
    this.work(day);
    const events = this.buckets.get(day) ?? [];
    this.buckets.delete(day);
    events.sort((a, b) => a.t - b.t);
    for (const e of events) yield auditEvent(this.nextEventId++, e);
  }

  private work(day: number): void {
    const { h, rng } = this;
    const start = this.dayStart(day);
    const end = start + DAY;
    const physicians = this.working(h.byRole.physician, day);
    const byDept = new Map<Dept, Staff[]>();
    for (const s of physicians) byDept.set(s.dept, [...(byDept.get(s.dept) ?? []), s]);

    // Nurses on each ward today, float nurses where they float to, and the odd extra night shift.
    const wardNurses = new Map<Ward, Array<{ s: Staff; shift: Staff }>>();
    for (const s of this.working(h.byRole.nurse, day)) {
      const floating = s.floatWard && hashUnit(h.seed, s.idx, day, 3) < 0.15;
      const ward = floating ? s.floatWard! : s.ward!;
      const view = floating ? { ...s, workstations: ward.hosts.slice(0, 2) } : s;
      wardNurses.set(ward, [...(wardNurses.get(ward) ?? []), { s, shift: view }]);
    }
    for (const s of h.byRole.nurse) {
      if (s.shift === 'night' || s.shift === 'ed-night' || works(h, s, day) || hashUnit(h.seed, s.idx, day, 5) >= 0.03) continue;
      if (s.end !== undefined && start > s.end) continue;
      if (start < s.start) continue;
      wardNurses.set(s.ward!, [...(wardNurses.get(s.ward!) ?? []), { s, shift: { ...s, shift: 'night' } }]);
    }

    // Admissions.
    for (const dept of h.depts) {
      if (dept.kind !== 'clinical') continue;
      const team = h.byRole.physician.filter((s) => s.dept === dept);
      if (team.length === 0) continue;
      for (const ward of dept.wards) {
        const nurses = h.byRole.nurse.filter((s) => s.ward === ward).length;
        const beds = Math.max(4, Math.round(1.3 * nurses));
        const n = rng.poisson(beds / 4.5);
        for (let i = 0; i < n; i++) {
          const p = this.careablePatient(dept);
          if (!p) continue;
          const t = start + (8 + rng.next() * 12) * HOUR;
          const stay = rng.int(1, 8);
          const leave = this.dayStart(day + stay) + (10 + rng.next() * 4) * HOUR;
          const attending = rng.pick(team);
          const enc: EncounterRec = { id: this.id('enc'), patient: p, cls: 'IMP', dept, location: ward, start: t, end: leave, participants: [attending] };
          this.encounters.push(enc);
          this.inpatients.set(ward, [...(this.inpatients.get(ward) ?? []), enc]);
          p.inpatientUntil = leave;
          const admitting = (byDept.get(dept) ?? []).find((s) => this.timeInShift(s, day, t, t + 2 * HOUR) !== undefined);
          if (admitting) {
            if (admitting !== attending) enc.participants.push(admitting);
            this.touch(admitting, p, this.timeInShift(admitting, day, t, t + 2 * HOUR)!, 2, 2);
          }
          if (rng.chance(0.5)) this.labOrder(p, attending, t);
          if (rng.chance(0.15)) this.consult(p, attending, dept, day, t);
        }
      }
    }

    // Ward work for everyone admitted.
    for (const [ward, list] of this.inpatients) {
      const stillIn = list.filter((e) => e.end > start);
      this.inpatients.set(ward, stillIn);
      const nurses = wardNurses.get(ward) ?? [];
      const shifts = new Map<string, Array<Staff>>();
      for (const n of nurses) shifts.set(n.shift.shift, [...(shifts.get(n.shift.shift) ?? []), n.shift]);
      for (const enc of stillIn) {
        if (enc.start > end) continue;
        const team = byDept.get(enc.dept) ?? [];
        const doctor = team.includes(enc.participants[0]) ? enc.participants[0] : team.length > 0 ? rng.pick(team) : undefined;
        if (doctor) {
          const t = this.timeInShift(doctor, day, enc.start, enc.end);
          if (t !== undefined) this.touch(doctor, enc.patient, t, rng.int(2, 4), 1);
        }
        for (const group of shifts.values()) {
          const who = rng.chance(0.3) && group.length > 1 ? rng.shuffle([...group]).slice(0, 2) : [rng.pick(group)];
          for (const n of who) {
            const t = this.timeInShift(n, day, enc.start, enc.end);
            if (t !== undefined) this.touch(n, enc.patient, t, rng.int(1, 2), 1);
          }
        }
        if (enc.end < end) {
          const billDay = day + rng.int(1, 4);
          this.pendingBilling.set(billDay, [...(this.pendingBilling.get(billDay) ?? []), enc.patient]);
        }
      }
    }

    this.emergency(day);
    this.outpatients(day);

    // Reviews due today (consults, referrals) and care teams looking at their patients' results.
    for (const r of this.pendingReviews.get(day) ?? []) {
      if (!works(h, r.staff, day)) {
        if (day + 1 < h.days) this.pendingReviews.set(day + 1, [...(this.pendingReviews.get(day + 1) ?? []), r]);
        continue;
      }
      const t = this.timeInShift(r.staff, day);
      if (t !== undefined) this.touch(r.staff, r.patient, t, rng.int(2, 3), rng.chance(0.6) ? 1 : 0);
    }
    this.pendingReviews.delete(day);
    for (const c of this.careTeams) {
      for (const m of c.members) {
        if (!rng.chance(0.06) || !works(h, m, day)) continue;
        const t = this.timeInShift(m, day);
        if (t !== undefined) this.touch(m, c.patient, t, rng.int(1, 3), rng.chance(0.3) ? 1 : 0);
      }
    }

    // Billing: the discharged patients of a few days ago, then the day's claims exported in one batch.
    const billers = this.working(h.byRole.billing, day);
    const due = this.pendingBilling.get(day) ?? [];
    this.pendingBilling.delete(day);
    if (billers.length > 0) {
      const batches = new Map<Staff, Patient[]>();
      for (const p of due) {
        const b = rng.pick(billers);
        const t = this.timeInShift(b, day);
        if (t === undefined) continue;
        this.touch(b, p, t, 1, 0);
        batches.set(b, [...(batches.get(b) ?? []), p]);
      }
      for (const [b, list] of batches) {
        const [, shiftEnd] = shiftWindow(h, b, day);
        this.emit({
          t: shiftEnd - 30 * MINUTE,
          user: b,
          address: this.workstationAt(b, shiftEnd - 30 * MINUTE),
          interaction: 'export',
          patients: list,
          resource: `Claim/${this.id('claims')}`,
        });
      }
    } else if (day + 1 < h.days) this.pendingBilling.set(day + 1, [...(this.pendingBilling.get(day + 1) ?? []), ...due]);
  }

  private labOrder(p: Patient, requester: Staff, t: number): void {
    const lab = this.h.depts.find((d) => d.kind === 'lab')!;
    this.serviceRequests.push({ id: this.id('sr'), patient: p, requester, performer: { dept: lab }, authored: t, category: 'lab' });
    const day = Math.floor((t - this.h.start) / DAY);
    for (const d of [day, day + 1]) {
      const tech = this.rng.shuffle(this.working(this.h.byRole.lab, d)).find((s) => this.timeInShift(s, d, t + HOUR) !== undefined);
      if (tech) {
        this.touch(tech, p, this.timeInShift(tech, d, t + HOUR)!, 1, 1, { patientRead: false });
        return;
      }
    }
  }

  private consult(p: Patient, requester: Staff, dept: Dept, day: number, t: number): void {
    const others = this.h.byRole.physician.filter((s) => s.dept !== dept && s.dept.kind === 'clinical');
    if (others.length === 0) return;
    const consultant = this.rng.pick(others);
    this.serviceRequests.push({ id: this.id('sr'), patient: p, requester, performer: { staff: consultant }, authored: t, category: 'consult' });
    const d = day + this.rng.int(1, 2);
    this.pendingReviews.set(d, [...(this.pendingReviews.get(d) ?? []), { staff: consultant, patient: p }]);
  }

  private emergency(day: number): void {
    const { h, rng } = this;
    const ed = h.depts.find((d) => d.kind === 'emergency')!;
    const doctors = h.byRole.physician.filter((s) => s.dept === ed);
    const nurses = h.byRole.nurse.filter((s) => s.dept === ed);
    const surge = hashUnit(h.seed, day, 9) < 0.05 ? 2 : 1; // a bad day: a bus crash, a heat wave
    const visits = rng.poisson(Math.max(2, doctors.length * 2.5) * surge);
    const start = this.dayStart(day);
    const onShift = (list: Staff[], t: number) =>
      list.filter((s) => [day, day - 1].some((d) => works(h, s, d) && shiftWindow(h, s, d)[0] <= t - 5 * MINUTE && shiftWindow(h, s, d)[1] >= t + 30 * MINUTE));
    for (let i = 0; i < visits; i++) {
      const t = start + rng.next() * DAY;
      const doctor = onShift(doctors, t);
      if (doctor.length === 0) continue;
      const doc = rng.pick(doctor);
      const p = this.careablePatient(ed);
      if (!p) continue;
      const enc: EncounterRec = {
        id: this.id('enc'),
        patient: p,
        cls: 'EMER',
        dept: ed,
        location: ed.wards[0],
        start: t,
        end: t + rng.int(2, 6) * HOUR,
        participants: [doc],
      };
      this.encounters.push(enc);
      const night = (t - start) / HOUR < 7 || (t - start) / HOUR >= 19;
      // Break the glass: the chart is needed before the visit is registered.
      if (rng.chance(night ? 0.3 : 0.1)) this.touch(doc, p, Math.max(start, t - rng.int(5, 20) * MINUTE), 2, 2, { emergency: true });
      else this.touch(doc, p, t + 2 * MINUTE, rng.int(2, 3), rng.int(1, 2));
      if (rng.chance(0.4)) this.labOrder(p, doc, t + 10 * MINUTE);
      const nurse = onShift(nurses, t);
      if (nurse.length > 0) this.touch(rng.pick(nurse), p, t + rng.int(5, 40) * MINUTE, 1, 1);
    }
  }

  private outpatients(day: number): void {
    const { h, rng } = this;
    const front = this.working(h.byRole.receptionist, day);
    const start = this.dayStart(day);
    for (const a of this.appointments) {
      // Booking: search, open the chart, book; a letter printed now and then.
      if (a.created >= start && a.created < start + DAY && front.length > 0) {
        const r = rng.pick(front);
        const t = this.timeInShift(r, day) ?? a.created;
        a.created = t;
        const address = this.workstationAt(r, t);
        this.emit({ t, user: r, address, interaction: 'search', patients: [] });
        this.emit({ t: t + 20_000, user: r, address, interaction: 'read', patients: [a.patient], resource: a.patient.ref });
        this.emit({ t: t + 60_000, user: r, address, interaction: 'create', patients: [a.patient], resource: `Appointment/${a.id}` });
        if (rng.chance(0.3)) this.emit({ t: t + 90_000, user: r, address, interaction: 'print', patients: [a.patient], resource: `Appointment/${a.id}` });
      }
      if (a.start >= start + DAY && a.start < start + 2 * DAY && works(h, a.physician, day) && rng.chance(0.25)) {
        const t = this.timeInShift(a.physician, day);
        if (t !== undefined) this.touch(a.physician, a.patient, t, 2, 0); // preparing tomorrow's clinic
      }
      if (a.start < start || a.start >= start + DAY || a.status !== 'fulfilled') continue;
      if (front.length > 0) {
        const r = rng.pick(front);
        const address = this.workstationAt(r, a.start - 10 * MINUTE);
        this.emit({ t: a.start - 10 * MINUTE, user: r, address, interaction: 'read', patients: [a.patient], resource: a.patient.ref });
        this.emit({ t: a.start - 9 * MINUTE, user: r, address, interaction: 'update', patients: [a.patient], resource: `Appointment/${a.id}` });
      }
      const enc: EncounterRec = {
        id: this.id('enc'),
        patient: a.patient,
        cls: 'AMB',
        dept: a.dept,
        location: a.dept.clinic,
        start: a.start,
        end: a.start + 30 * MINUTE,
        participants: [a.physician],
      };
      this.encounters.push(enc);
      this.touch(a.physician, a.patient, a.start + MINUTE, rng.int(1, 3), rng.int(1, 2));
      if (rng.chance(0.3)) this.labOrder(a.patient, a.physician, a.start + 20 * MINUTE);
      if (rng.chance(0.08)) {
        const other = h.depts.filter((d) => d.kind === 'clinical' && d !== a.dept);
        if (other.length > 0) {
          const to = rng.pick(other);
          this.serviceRequests.push({
            id: this.id('sr'),
            patient: a.patient,
            requester: a.physician,
            performer: { dept: to },
            authored: a.start + 25 * MINUTE,
            category: 'referral',
          });
          const team = h.byRole.physician.filter((s) => s.dept === to);
          if (team.length > 0) {
            const d = day + rng.int(1, 5);
            this.pendingReviews.set(d, [...(this.pendingReviews.get(d) ?? []), { staff: rng.pick(team), patient: a.patient }]);
          }
        }
      }
    }
  }
}
