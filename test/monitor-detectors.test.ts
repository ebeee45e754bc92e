/**
 * Each detector on a tiny hand-built hospital: it fires on its pattern, and stays quiet on the
 * legitimate counterpart (the same people, explained by the records or by clinical work).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import type { Alert } from '../src/monitor/catalog.js';
import { scan } from '../src/monitor/scan/index.js';
import { at, DAY, START, TinyClinic, alertsOf, forUser } from './helpers/monitorFixture.js';

const NURSE = 'cardio-nurse-3';

const scenarios = (alerts: Alert[], user = NURSE) =>
  forUser(alerts, user)
    .map((a) => a.scenario)
    .sort();

describe('monitor detectors on tiny hospitals', () => {
  test('the baseline alone (explained ward work) gives no alerts and explains every access', async () => {
    const clinic = new TinyClinic();
    const dir = clinic.write();
    const { alerts, summary } = await scan(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(alerts, []);
    assert.equal(summary.explainedShare, 1);
    assert.ok(summary.byReason.ward > 0);
  });

  test('family: a household member (same address and phone) is flagged; same surname elsewhere is not family', async () => {
    const clinic = new TinyClinic();
    clinic.patient('relative', { family: 'Nursecardio3', given: 'Kim', birthDate: '1950-01-01', line: '3 Nursecardio3 Road', phone: '+1-555-011-003' });
    clinic.patient('namesake', {
      family: 'Nursecardio3',
      given: 'Lou',
      birthDate: '1960-01-01',
      line: '9 Far Away Lane',
      city: 'Elsewhere',
      phone: '+1-555-999-999',
    });
    clinic.access(NURSE, 'relative', at(5, 10));
    clinic.access(NURSE, 'relative', at(6, 11));
    const alerts = await alertsOf(clinic);
    const family = forUser(alerts, NURSE).find((a) => a.scenario === 'family');
    assert.ok(family, JSON.stringify(alerts));
    assert.deepEqual(family.patients, ['Patient/relative']);
    assert.ok(
      family.evidence.some((e) => /same family name, address and phone number as the user/.test(e)),
      family.evidence.join('; '),
    );
    assert.ok(family.evidence.some((e) => /no appointment, encounter, care team or order/.test(e)));
    assert.ok(family.score >= 0.5 && family.score <= 1);
    assert.equal(family.firstAccess, new Date(at(5, 10)).toISOString());
    assert.equal(family.lastAccess, new Date(at(6, 11)).toISOString());
    assert.ok(!alerts.some((a) => a.patients.includes('Patient/namesake')), 'the namesake was never opened');
  });

  test("family: a relative on the nurse's own ward, cared for with clinical work, is not flagged", async () => {
    const clinic = new TinyClinic();
    clinic.patient('relative', { family: 'Nursecardio3', given: 'Kim', birthDate: '1950-01-01', line: '3 Nursecardio3 Road', phone: '+1-555-011-003' });
    clinic.encounter('relative', 'cardio', at(4, 8), at(8, 12));
    clinic.access(NURSE, 'relative', at(5, 10));
    clinic.access(NURSE, 'relative', at(5, 10, 2), { subtype: 'create' });
    assert.deepEqual(scenarios(await alertsOf(clinic)), []);
  });

  test('family: the same relative on the ward, only read, is flagged (a personal tie outweighs a ward-wide explanation)', async () => {
    const clinic = new TinyClinic();
    clinic.patient('relative', { family: 'Nursecardio3', given: 'Kim', birthDate: '1950-01-01', line: '3 Nursecardio3 Road', phone: '+1-555-011-003' });
    clinic.encounter('relative', 'cardio', at(4, 8), at(8, 12));
    clinic.access(NURSE, 'relative', at(5, 10));
    assert.deepEqual(scenarios(await alertsOf(clinic)), ['family']);
  });

  test('self-lookup, co-worker, neighbour and VIP: each named for what it is', async () => {
    const clinic = new TinyClinic();
    clinic.patient('own', { family: 'Nursecardio3', given: 'Pat', birthDate: '1983-03-13', line: '3 Nursecardio3 Road', phone: '+1-555-011-003' }, ['EMP']);
    clinic.patient('colleague', { family: 'Otherperson', given: 'Jo', birthDate: '1970-05-05', line: '1 Hill Street', city: 'Hilltown' }, ['EMP']);
    clinic.patient('neighbour', { family: 'Nextdoor', given: 'Al', birthDate: '1940-05-05', line: '17 Lilac Road', phone: '+1-555-777-777' });
    clinic.patient('star', { family: 'Famous', given: 'Vi', birthDate: '1975-05-05', line: '1 Sunset Boulevard', city: 'Hollywood' }, ['VIP']);
    clinic.access('cardio-nurse-3', 'own', at(2, 9));
    clinic.access('cardio-nurse-4', 'colleague', at(3, 9));
    clinic.access('cardio-nurse-5', 'neighbour', at(4, 9));
    clinic.staff(
      'neighbour-nurse',
      { family: 'Nursey', given: 'Ann', birthDate: '1990-01-01', line: '20 Lilac Road', phone: '+1-555-444-444' },
      { role: 'nurse', org: 'cardio', ward: true },
    );
    clinic.access('neighbour-nurse', 'neighbour', at(4, 10));
    clinic.access('cardio-nurse-6', 'star', at(5, 9));
    const alerts = await alertsOf(clinic);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-3'), ['self']);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-4'), ['coworker']);
    assert.deepEqual(scenarios(alerts, 'neighbour-nurse'), ['neighbour']);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-6'), ['vip']);
    // A patient with no tie to the user and nothing explaining the access: curiosity, not neighbour.
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-5'), ['curiosity']);
  });

  test('VIP and co-worker cared for on the ward with clinical work: no alert', async () => {
    const clinic = new TinyClinic();
    clinic.patient('star', { family: 'Famous', given: 'Vi', birthDate: '1975-05-05' }, ['VIP']);
    clinic.patient('colleague', { family: 'Otherperson', given: 'Jo', birthDate: '1970-05-05' }, ['EMP']);
    for (const p of ['star', 'colleague']) {
      clinic.encounter(p, 'cardio', at(2, 8), at(9, 8));
      clinic.access(NURSE, p, at(3, 9));
      clinic.access(NURSE, p, at(3, 9, 1), { subtype: 'create' });
    }
    assert.deepEqual(scenarios(await alertsOf(clinic)), []);
  });

  test('curiosity and department mismatch; an unexplained access with clinical work is neither', async () => {
    const clinic = new TinyClinic();
    clinic.patient('stranger', { family: 'Unrelated', given: 'Bo', birthDate: '1966-06-06' });
    clinic.patient('covered', { family: 'Covered', given: 'Cy', birthDate: '1967-06-06' });
    clinic.access('cardio-nurse-1', 'stranger', at(4, 9));
    clinic.access('cardio-nurse-2', 'surgery-pt-004', at(4, 9)); // admitted to surgery right now
    clinic.access('cardio-nurse-7', 'covered', at(4, 9));
    clinic.access('cardio-nurse-7', 'covered', at(4, 9, 1), { subtype: 'create' });
    const alerts = await alertsOf(clinic);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-1'), ['curiosity']);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-2'), ['department']);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-7'), []);
  });

  test('terminated account: accesses after the employment end; none on the last day', async () => {
    const clinic = new TinyClinic();
    clinic.staff('leaver', { family: 'Leaver', given: 'Lee' }, { role: 'nurse', org: 'cardio', ward: true, end: '2025-03-08', active: false });
    clinic.staff('stayer', { family: 'Stayer', given: 'Sue' }, { role: 'nurse', org: 'cardio', ward: true, end: '2025-03-08', active: false });
    for (let d = 0; d <= 5; d++) {
      clinic.access('leaver', 'cardio-pt-001', at(d, 9));
      clinic.access('leaver', 'cardio-pt-001', at(d, 9, 1), { subtype: 'create' });
      clinic.access('stayer', 'cardio-pt-002', at(d, 9));
      clinic.access('stayer', 'cardio-pt-002', at(d, 9, 1), { subtype: 'create' });
    }
    clinic.access('leaver', 'cardio-pt-003', at(8, 10)); // two days after the end date, an explained-looking ward patient
    const alerts = await alertsOf(clinic);
    const t = forUser(alerts, 'leaver').find((a) => a.scenario === 'terminated');
    assert.ok(t, JSON.stringify(alerts));
    assert.deepEqual(t.patients, ['Patient/cardio-pt-003']);
    assert.match(t.evidence[0], /after employment ended on 2025-03-08/);
    assert.deepEqual(scenarios(alerts, 'stayer'), []);
  });

  test('shared credentials: two networks alternating within minutes; a nurse moving to another ward once is not', async () => {
    const clinic = new TinyClinic();
    for (let k = 0; k < 12; k++) {
      clinic.access(NURSE, 'cardio-pt-005', at(6, 13, k * 4), { address: '10.1.1.10' });
      clinic.access(NURSE, 'cardio-pt-006', at(6, 13, k * 4 + 2), { address: '192.168.77.5' });
    }
    // The other nurse works one afternoon on the surgery ward's workstations (one move, no back and forth).
    for (let k = 0; k < 6; k++) clinic.access('cardio-nurse-5', 'cardio-pt-007', at(6, 13, k * 5), { address: '10.2.1.10' });
    const alerts = await alertsOf(clinic);
    const c = forUser(alerts, NURSE).find((a) => a.scenario === 'credentials');
    assert.ok(c, JSON.stringify(alerts));
    assert.ok(c.evidence.some((e) => /two places at once/.test(e)));
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-5'), []);
  });

  test('mass export: 60 patients exported in a day against peers who export none; a few letters printed are not', async () => {
    const clinic = new TinyClinic();
    const many = [
      ...clinic.wards.cardio.patients,
      ...clinic.wards.surgery.patients,
      ...Array.from({ length: 12 }, (_, i) => clinic.patient(`extra-${i}`, { family: `Extra${i}`, given: 'X' })),
    ];
    clinic.access(NURSE, many, at(7, 14), { subtype: 'export' });
    clinic.access('cardio-nurse-4', ['cardio-pt-001', 'cardio-pt-002', 'cardio-pt-003'], at(7, 14), { subtype: 'print' });
    const alerts = await alertsOf(clinic);
    const e = forUser(alerts, NURSE).find((a) => a.scenario === 'export');
    assert.ok(e, JSON.stringify(alerts));
    assert.equal(e.patients.length, many.length);
    assert.match(e.evidence[0], /60 patients exported or printed/);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-4'), []);
  });

  test('sequential enumeration: consecutive identifiers opened seconds apart; the same number of ward charts is not', async () => {
    const clinic = new TinyClinic();
    const ids = Array.from({ length: 40 }, (_, i) =>
      clinic.patient(`seq-${String(i).padStart(4, '0')}`, { family: `Zed${String(i).padStart(3, '0')}`, given: 'Q' }),
    );
    ids.forEach((id, i) => clinic.access(NURSE, id, at(8, 10) + i * 6000));
    const alerts = await alertsOf(clinic);
    const e = forUser(alerts, NURSE).find((a) => a.scenario === 'enumeration');
    assert.ok(e, JSON.stringify(forUser(alerts, NURSE)));
    assert.ok(e.evidence.some((x) => /next to each other/.test(x)));
    assert.ok(!forUser(alerts, NURSE).some((a) => a.scenario === 'curiosity'), 'one incident, not forty curiosities');
    assert.equal(forUser(alerts, 'cardio-nurse-1').length, 0);
  });

  test('volume outlier: one day with many unexplained charts; an explained busy day is not', async () => {
    const clinic = new TinyClinic();
    for (let i = 0; i < 45; i++)
      clinic.access(NURSE, clinic.patient(`v-${i}`, { family: `Vol${i}`, given: 'R', birthDate: '1990-01-01' }), at(9, 9) + ((i * 7919) % 400) * 60_000);
    // Nurse 2 sees every ward patient twice that day, all explained.
    for (let i = 0; i < 24; i++) {
      clinic.access('cardio-nurse-2', clinic.wards.cardio.patients[i], at(9, 8) + i * 600_000);
      clinic.access('cardio-nurse-2', clinic.wards.cardio.patients[i], at(9, 8) + i * 600_000 + 60_000, { subtype: 'create' });
    }
    const alerts = await alertsOf(clinic);
    const v = forUser(alerts, NURSE).find((a) => a.scenario === 'volume');
    assert.ok(v, JSON.stringify(forUser(alerts, NURSE)));
    assert.match(v.evidence[0], /distinct patients on 2025-03-12/);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-2'), []);
  });

  test('harvesting: unexplained charts pile up in the weeks before the employment end', async () => {
    const clinic = new TinyClinic();
    clinic.staff('harvester', { family: 'Harvey', given: 'H' }, { role: 'nurse', org: 'cardio', ward: true, end: '2025-03-16' });
    for (let d = 0; d < 14; d++) {
      clinic.access('harvester', 'cardio-pt-010', at(d, 9));
      clinic.access('harvester', 'cardio-pt-010', at(d, 9, 1), { subtype: 'create' });
      if (d >= 7) for (let i = 0; i < 6; i++) clinic.access('harvester', clinic.patient(`h-${d}-${i}`, { family: `Harv${d}${i}`, given: 'Z' }), at(d, 10 + i));
    }
    const alerts = await alertsOf(clinic);
    assert.deepEqual(scenarios(alerts, 'harvester'), ['harvesting']);
    assert.ok(forUser(alerts, 'harvester')[0].evidence[0].includes('before employment ends on 2025-03-16'));
  });

  test('break-the-glass abuse: emergency access without clinical action; with an encounter and a write it is not', async () => {
    const clinic = new TinyClinic();
    for (let i = 0; i < 3; i++) clinic.access(NURSE, clinic.patient(`bg-${i}`, { family: `Glass${i}`, given: 'G' }), at(3 + i * 2, 10), { emergency: true });
    clinic.patient('emergency', { family: 'Trauma', given: 'T' });
    clinic.encounter('emergency', 'cardio', at(4, 10, 30), at(5, 10), ['cardio-nurse-8']);
    clinic.access('cardio-nurse-8', 'emergency', at(4, 10), { emergency: true });
    clinic.access('cardio-nurse-8', 'emergency', at(4, 10, 5), { subtype: 'create', emergency: true });
    const alerts = await alertsOf(clinic);
    const b = forUser(alerts, NURSE).find((a) => a.scenario === 'break-glass');
    assert.ok(b, JSON.stringify(forUser(alerts, NURSE)));
    assert.equal(b.patients.length, 3);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-8'), []);
  });

  test('repeat offender: two separate incidents a week apart; one incident alone is not', async () => {
    const clinic = new TinyClinic();
    clinic.patient('star', { family: 'Famous', given: 'Vi' }, ['VIP']);
    clinic.patient('colleague', { family: 'Otherperson', given: 'Jo' }, ['EMP']);
    clinic.access(NURSE, 'star', at(1, 9));
    clinic.access(NURSE, 'colleague', at(10, 9));
    clinic.access('cardio-nurse-6', 'star', at(2, 9));
    const alerts = await alertsOf(clinic);
    assert.deepEqual(scenarios(alerts), ['coworker', 'repeat', 'vip']);
    const r = forUser(alerts, NURSE).find((a) => a.scenario === 'repeat')!;
    assert.deepEqual([...r.patients].sort(), ['Patient/colleague', 'Patient/star']);
    assert.deepEqual(scenarios(alerts, 'cardio-nurse-6'), ['vip']);
  });

  test('a chart many unrelated users open on one day is flagged as VIP even without a label', async () => {
    const clinic = new TinyClinic();
    clinic.patient('news', { family: 'Headline', given: 'N' });
    clinic.encounter('news', 'surgery', at(3, 8), at(9, 8));
    for (const n of ['cardio-nurse-1', 'cardio-nurse-2', 'cardio-nurse-4', 'cardio-nurse-5']) clinic.access(n, 'news', at(4, 9 + Number(n.slice(-1))));
    const alerts = await alertsOf(clinic);
    for (const n of ['cardio-nurse-1', 'cardio-nurse-2', 'cardio-nurse-4', 'cardio-nurse-5']) assert.deepEqual(scenarios(alerts, n), ['vip'], n);
    assert.equal(START + DAY > 0, true);
  });
});
