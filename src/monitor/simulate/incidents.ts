/**
 * Injected incidents: every scenario of the catalog, several times, at varied intensity and
 * stealth (few or many accesses, bursts or spread over a shift, from the user's usual workstation
 * or not). Each is written to truth.ndjson with its user, patients and time window.
 */
import type { Scenario, TruthIncident } from '../catalog.js';
import { DAY, HOUR, shiftWindow, works, type Patient, type Staff } from './hospital.js';
import { Incident, MINUTE, quietPatient, relatedTo, sessions, workingDays, type Planner } from './incident.js';
import type { Sim } from './sim.js';

/** The personal scenarios: one chart (or a few) the user has a reason of their own to open. */
function personal(scenario: Scenario, target: (sim: Sim, user: Staff) => Patient | undefined): Planner {
  return (sim, user, day, onDone) => {
    const p = target(sim, user);
    if (!p) return false;
    const count = sim.rng.int(1, 4);
    const days = workingDays(sim.h, user, day, count, 5);
    if (days.length === 0) return false;
    p.targeted = true;
    const inc = new Incident(sim, user, scenario, count === 1 ? 'stealthy' : 'plain');
    sessions(sim, inc, p, days, sim.rng.chance(0.3) ? 2 : 1);
    onDone(inc.done());
    return true;
  };
}

const family = personal('family', (sim, u) => {
  const free = u.relatives.filter((r) => !r.targeted);
  return free.length > 0 ? sim.rng.pick(free) : undefined;
});
const self = personal('self', (_sim, u) => u.ownPatient);
const coworker = personal('coworker', (sim, u) => {
  const colleagues = sim.h.staff.filter(
    (s) =>
      s !== u &&
      s.ownPatient &&
      !s.ownPatient.targeted &&
      s.person.family !== u.person.family &&
      s.person.street !== u.person.street &&
      s.person.phone !== u.person.phone,
  );
  if (colleagues.length === 0) return undefined;
  const sameDept = colleagues.filter((s) => s.dept === u.dept);
  return (sameDept.length > 0 && sim.rng.chance(0.6) ? sim.rng.pick(sameDept) : sim.rng.pick(colleagues)).ownPatient;
});
const neighbour = personal('neighbour', (sim, u) => {
  const list = sim.h.patients.filter(
    (p) =>
      p.person.street === u.person.street &&
      p.person.house !== u.person.house &&
      p.person.family !== u.person.family &&
      p.person.phone !== u.person.phone &&
      !p.staff &&
      p.labels.length === 0 &&
      !p.targeted,
  );
  return list.length > 0 ? sim.rng.pick(list) : undefined;
});
const vipLabel = personal('vip', (sim, u) => {
  const list = sim.h.patients.filter(
    (p) => p.labels.includes('VIP') && p.person.family !== u.person.family && p.person.street !== u.person.street && p.person.phone !== u.person.phone,
  );
  return list.length > 0 ? sim.rng.pick(list) : undefined;
});

const curiosity: Planner = (sim, user, day, onDone) => {
  const count = sim.rng.int(1, 4);
  const inc = new Incident(sim, user, 'curiosity', count === 1 ? 'stealthy' : 'plain');
  const days = workingDays(sim.h, user, day, 3, 5);
  if (days.length === 0) return false;
  for (let i = 0; i < count; i++) {
    const p = quietPatient(sim, user);
    if (p) sessions(sim, inc, p, [sim.rng.pick(days)], 1);
  }
  onDone(inc.done());
  return true;
};

/** Patients under care in another department: the incident waits for the day to know who is admitted. */
const department: Planner = (sim, user, day, onDone) => {
  if (user.role !== 'physician' && user.role !== 'nurse') return false;
  const days = workingDays(sim.h, user, day, 1, 8);
  if (days.length === 0) return false;
  const d = days[0];
  sim.onDay(d, () => {
    const elsewhere = sim
      .activeInpatients()
      .filter(
        ({ ward, enc }) =>
          ward.dept !== user.dept &&
          ward !== user.floatWard &&
          !enc.patient.targeted &&
          !relatedTo(user, enc.patient) &&
          enc.start < sim.dayStart(d) &&
          enc.end > sim.dayStart(d + 1),
      );
    const count = Math.min(elsewhere.length, sim.rng.int(1, 4));
    const inc = new Incident(sim, user, 'department', count === 1 ? 'stealthy' : 'plain');
    for (const { enc } of sim.rng.shuffle(elsewhere).slice(0, count)) {
      enc.patient.targeted = true;
      const t = sim.timeInShift(user, d);
      if (t !== undefined) inc.touch(enc.patient, t, sim.rng.int(1, 3));
    }
    onDone(inc.done());
  });
  return true;
};

/** A chart in the news: several unrelated users open the same admitted patient on the same day. */
function vipJump(sim: Sim, day: number, onDone: (t: TruthIncident | undefined) => void): void {
  sim.onDay(day, () => {
    const candidates = sim.activeInpatients().filter(({ enc }) => !enc.patient.targeted && enc.patient.labels.length === 0 && enc.start < sim.dayStart(day));
    if (candidates.length === 0) return;
    const { enc } = sim.rng.pick(candidates);
    enc.patient.targeted = true;
    // Readers from departments that never had the patient: nothing in the records explains them.
    const depts = new Set(sim.encounters.filter((e) => e.patient === enc.patient).map((e) => e.dept));
    const users = sim.rng.shuffle(
      sim.h.staff.filter(
        (s) =>
          !s.busy &&
          s.end === undefined &&
          !depts.has(s.dept) &&
          s.floatWard?.dept !== enc.dept &&
          (s.role === 'nurse' || s.role === 'physician') &&
          works(sim.h, s, day) &&
          !relatedTo(s, enc.patient),
      ),
    );
    const n = sim.rng.int(3, 5);
    for (const u of users.slice(0, n)) {
      u.busy = true;
      const inc = new Incident(sim, u, 'vip', 'plain');
      const t = sim.timeInShift(u, day);
      if (t !== undefined) inc.touch(enc.patient, t, sim.rng.int(1, 3));
      onDone(inc.done());
    }
  });
}

const ROLE_DAILY_PATIENTS: Record<string, number> = { nurse: 6, physician: 12, receptionist: 25, billing: 10, lab: 15 };

const volume: Planner = (sim, user, day, onDone) => {
  const days = workingDays(sim.h, user, day, 1, 8);
  if (days.length === 0) return false;
  const extra = Math.round(ROLE_DAILY_PATIENTS[user.role] * (2.5 + sim.rng.next() * 4)) + 5;
  const burst = sim.rng.chance(0.5);
  const inc = new Incident(sim, user, 'volume', burst ? 'plain' : 'stealthy');
  const [a, b] = shiftWindow(sim.h, user, days[0]);
  const from = burst ? a + sim.rng.next() * (b - a - 3 * HOUR) : a + 15 * MINUTE;
  const to = burst ? from + 2 * HOUR : b - 30 * MINUTE;
  for (let i = 0; i < extra; i++) {
    const p = quietPatient(sim, user, false);
    if (p) inc.touch(p, from + sim.rng.next() * (to - from), sim.rng.int(0, 1));
  }
  onDone(inc.done());
  return true;
};

const harvesting: Planner = (sim, user, _day, onDone) => {
  const h = sim.h;
  const endDay = sim.rng.int(Math.ceil(h.days * 0.55), h.days - 2);
  user.end = sim.dayStart(endDay) + DAY - 1;
  const span = sim.rng.int(7, 21);
  const perDay = sim.rng.int(3, 16);
  const inc = new Incident(sim, user, 'harvesting', perDay < 7 ? 'stealthy' : 'plain');
  for (const d of workingDays(h, user, endDay - span, span + 1, span + 1)) {
    for (let i = 0; i < perDay; i++) {
      const p = quietPatient(sim, user, false);
      const t = sim.timeInShift(user, d);
      if (p && t !== undefined) inc.touch(p, t, sim.rng.int(0, 2));
    }
  }
  onDone(inc.done());
  return true;
};

const terminated: Planner = (sim, user, _day, onDone) => {
  if (!user.ward && user.role === 'nurse') return false;
  const h = sim.h;
  const endDay = sim.rng.int(Math.ceil(h.days * 0.2), Math.floor(h.days * 0.6));
  user.end = sim.dayStart(endDay) + DAY - 1;
  const stealthy = sim.rng.chance(0.5);
  const inc = new Incident(sim, user, 'terminated', stealthy ? 'stealthy' : 'plain');
  const visits = sim.rng.int(1, 3);
  let pending = visits;
  for (let v = 0; v < visits; v++) {
    const d = endDay + sim.rng.int(2, 10);
    if (d >= h.days) {
      pending--;
      continue;
    }
    sim.onDay(d, () => {
      const [a] = shiftWindow(h, user, d);
      // Stealthy: the ward's own patients, from a ward workstation, as in the old job.
      const ward = sim
        .activeInpatients()
        .filter(({ ward }) => ward.dept === user.dept)
        .map(({ enc }) => enc.patient);
      const n = sim.rng.int(2, 10);
      for (let i = 0; i < n; i++) {
        const p = stealthy && ward.length > 0 ? sim.rng.pick(ward) : quietPatient(sim, user, false);
        if (p)
          inc.touch(p, a + HOUR + sim.rng.next() * 5 * HOUR, sim.rng.int(0, 2), {
            address: stealthy ? user.workstations[0] : `100.64.${user.idx % 250}.${7 + v}`,
          });
      }
      if (--pending === 0) onDone(inc.done());
    });
  }
  if (pending === 0) onDone(inc.done());
  return true;
};

const credentials: Planner = (sim, user, day, onDone) => {
  if (user.role !== 'nurse' && user.role !== 'physician') return false;
  const h = sim.h;
  const days = workingDays(h, user, day, 2, 8);
  if (days.length === 0) return false;
  const concurrent = sim.rng.chance(0.5);
  const outside = `192.168.${(user.idx * 7) % 250}.${10 + sim.rng.int(0, 200)}`;
  const otherDept = h.depts.find((d) => d !== user.dept && d.wards.length > 0 && !d.wards.includes(user.floatWard!));
  const d = days[0];
  if (concurrent) {
    // Someone else using the login while the user works: two places at once.
    const address = sim.rng.chance(0.5) || !otherDept ? outside : otherDept.wards[0].hosts[4];
    const inc = new Incident(sim, user, 'credentials', address === outside ? 'plain' : 'stealthy');
    sim.onDay(d, () => {
      const [a, b] = shiftWindow(h, user, d);
      const from = a + HOUR + sim.rng.next() * Math.max(0, b - a - 4 * HOUR);
      const to = from + sim.rng.int(30, 90) * MINUTE;
      const mine = sim
        .activeInpatients()
        .filter(({ ward }) => ward.dept === user.dept)
        .map(({ enc }) => enc.patient);
      for (let t = from; t < to; t += sim.rng.int(3, 7) * MINUTE) if (mine.length > 0) sim.touch(user, sim.rng.pick(mine), t, 0, 1);
      for (let t = from + MINUTE; t < to; t += sim.rng.int(1, 4) * MINUTE) {
        const p = quietPatient(sim, user, false);
        if (p) inc.touch(p, t, 0, { address });
      }
      onDone(inc.done());
    });
    return true;
  }
  // Outside the user's shifts, from an address outside the hospital.
  const inc = new Incident(sim, user, 'credentials', 'plain');
  const nightWorker = user.shift === 'night' || user.shift === 'ed-night' || user.shift === 'evening';
  const nights = sim.rng.int(1, 2);
  for (let k = 0; k < nights; k++) {
    const when = sim.dayStart(d + k) + (nightWorker ? 11 + sim.rng.next() * 2 : 1 + sim.rng.next() * 2) * HOUR;
    const n = sim.rng.int(3, 12);
    for (let i = 0; i < n; i++) {
      const p = quietPatient(sim, user, false);
      if (p) inc.touch(p, when + i * sim.rng.int(2, 6) * MINUTE, sim.rng.int(0, 2), { address: outside });
    }
  }
  onDone(inc.done());
  return true;
};

const EXPORT_BASE: Record<string, number> = { billing: 20, receptionist: 3 };

const massExport: Planner = (sim, user, day, onDone) => {
  const days = workingDays(sim.h, user, day, 1, 8);
  if (days.length === 0) return false;
  const n = Math.round((EXPORT_BASE[user.role] ?? 0) * (3 + sim.rng.next() * 3)) + sim.rng.int(15, 80);
  const oneByOne = sim.rng.chance(0.4);
  const inc = new Incident(sim, user, 'export', oneByOne ? 'stealthy' : 'plain');
  const patients = Array.from({ length: n }, () => sim.rng.pick(sim.h.patients));
  const [a, b] = shiftWindow(sim.h, user, days[0]);
  if (oneByOne) patients.forEach((p, i) => inc.emit(a + 30 * MINUTE + ((b - a - HOUR) * i) / n, 'print', [p]));
  else {
    const parts = sim.rng.int(1, 3);
    for (let k = 0; k < parts; k++)
      inc.emit(a + HOUR + k * 40 * MINUTE, 'export', patients.slice(Math.floor((k * n) / parts), Math.floor(((k + 1) * n) / parts)));
  }
  onDone(inc.done());
  return true;
};

const enumeration: Planner = (sim, user, day, onDone) => {
  const days = workingDays(sim.h, user, day, 1, 8);
  if (days.length === 0) return false;
  const byName = sim.rng.chance(0.5);
  const order = byName
    ? [...sim.h.patients].sort((a, b) => (`${a.person.family} ${a.person.given}`.toLowerCase() < `${b.person.family} ${b.person.given}`.toLowerCase() ? -1 : 1))
    : sim.h.patients;
  const count = sim.rng.int(20, 120);
  const stealthy = sim.rng.chance(0.4);
  const inc = new Incident(sim, user, 'enumeration', stealthy ? 'stealthy' : 'plain');
  let i = sim.rng.int(0, Math.max(0, order.length - count * 3));
  let t = sim.timeInShift(user, days[0]) ?? shiftWindow(sim.h, user, days[0])[0];
  for (let k = 0; k < count && i < order.length; k++) {
    if (sim.rng.chance(0.3)) inc.emit(t, 'search', []);
    t = inc.touch(order[i], t + 2000, 0) + (stealthy ? sim.rng.int(20, 90) : sim.rng.int(2, 10)) * 1000;
    i += stealthy ? sim.rng.int(1, 3) : 1;
  }
  onDone(inc.done());
  return true;
};

const breakGlass: Planner = (sim, user, day, onDone) => {
  if (user.role !== 'nurse' && user.role !== 'physician') return false;
  const count = sim.rng.int(2, 5);
  const days = workingDays(sim.h, user, day, count, 6);
  if (days.length === 0) return false;
  const inc = new Incident(sim, user, 'break-glass', count <= 2 ? 'stealthy' : 'plain');
  for (let k = 0; k < count; k++) {
    const p = quietPatient(sim, user);
    const t = sim.timeInShift(user, days[k % days.length]);
    if (p && t !== undefined) inc.touch(p, t, sim.rng.int(1, 2), { emergency: true });
  }
  onDone(inc.done());
  return true;
};

const PLANNERS: Partial<Record<Scenario, Planner>> = {
  family,
  coworker,
  neighbour,
  vip: vipLabel,
  self,
  curiosity,
  department,
  volume,
  harvesting,
  terminated,
  credentials,
  export: massExport,
  enumeration,
  'break-glass': breakGlass,
};
/** What a repeat offender does again and again: the small, personal kinds. */
const REPEATABLE: Scenario[] = ['family', 'coworker', 'neighbour', 'curiosity', 'department', 'self', 'vip', 'break-glass', 'export'];

export function planIncidents(sim: Sim): void {
  const { h, rng } = sim;
  const perScenario = Math.max(2, Math.round(h.staff.length / 150));
  const eligible = (s: Staff) => !s.busy && s.end === undefined && s.start < h.start;
  const randomDay = () => rng.int(1, Math.max(1, h.days - 9));
  const keep = () => undefined;
  for (const scenario of Object.keys(PLANNERS) as Scenario[]) {
    const planner = PLANNERS[scenario]!;
    let planned = 0;
    const jumps = scenario === 'vip' ? Math.max(1, Math.round(perScenario / 3)) : 0;
    for (let j = 0; j < jumps; j++) vipJump(sim, randomDay(), keep);
    const wanted = perScenario - (scenario === 'vip' ? jumps * 3 : 0);
    for (let attempt = 0; attempt < perScenario * 20 && planned < Math.max(1, wanted); attempt++) {
      const user = rng.pick(h.staff);
      if (!eligible(user)) continue;
      if (planner(sim, user, randomDay(), keep)) {
        user.busy = true;
        planned++;
      }
    }
  }
  // Repeat offenders: two or three separate incidents, a week or more apart.
  for (let k = 0, attempt = 0; k < perScenario && attempt < perScenario * 20; attempt++) {
    const user = rng.pick(h.staff);
    if (!eligible(user) || h.days < 18) continue;
    user.busy = true;
    k++;
    const times = h.days >= 30 ? rng.int(2, 3) : 2;
    const gap = Math.floor((h.days - 2) / times);
    const parts: TruthIncident[] = [];
    let expected = 0;
    const finish = () => {
      if (parts.length < 2 || parts.length < expected) return;
      const start = parts.map((p) => p.window.start).sort()[0];
      const end = parts
        .map((p) => p.window.end)
        .sort()
        .reverse()[0];
      sim.truth.push({
        id: `inc-${sim.truth.length + 1}`,
        user: user.ref,
        patients: [...new Set(parts.flatMap((p) => p.patients))],
        scenario: 'repeat',
        window: { start, end },
        stealth: 'plain',
      });
    };
    const kinds = rng.shuffle([...REPEATABLE]);
    for (let i = 0, done = 0; i < kinds.length && done < times; i++) {
      const day = 1 + done * gap;
      const ok = PLANNERS[kinds[i]]!(sim, user, day, (t) => {
        if (t) parts.push(t);
        else expected--;
        finish();
      });
      if (ok) {
        done++;
        expected++;
      }
    }
  }
}
