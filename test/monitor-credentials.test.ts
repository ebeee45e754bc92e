/**
 * Shared or stolen credentials on tiny hand-built hospitals: a login used in someone else's place
 * (another ward's workstation, an outside address, the middle of the night) is flagged, with or
 * without network addresses in the log; the legitimate look-alikes (roaming between a ward's
 * workstations, covering a shift on another ward, a sweep that runs past the end of a shift, a
 * leaver's account after the end date) are not credentials alerts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Alert } from '../src/monitor/catalog.js';
import { at, TinyClinic, alertsOf, forUser } from './helpers/monitorFixture.js';

const NURSE = 'cardio-nurse-3';

const credentialsOf = (alerts: Alert[], user = NURSE) => forUser(alerts, user).filter((a) => a.scenario === 'credentials');

/** Patients on file with no care here at all: nothing in the records explains opening them. */
function strangers(clinic: TinyClinic, n: number, prefix = 'stranger'): string[] {
  return Array.from({ length: n }, (_, i) =>
    clinic.patient(`${prefix}-${i}`, {
      family: `Stranger${prefix}${i}`,
      given: 'Al',
      birthDate: `19${40 + i}-04-04`,
      line: `${i + 1} Remote Road`,
      city: 'Farfield',
    }),
  );
}

/** The log as another EHR may write it: no agent.network at all. */
function withoutAddresses(clinic: TinyClinic): void {
  for (const e of clinic.events) for (const a of e.agent as Array<Record<string, unknown>>) delete a.network;
}

describe('credentials: one account, someone else at the keyboard', () => {
  test("a login used at another department's workstation in the owner's shift, opening charts nothing explains, is flagged (no alternation needed)", async () => {
    const clinic = new TinyClinic();
    // The surgery ward's workstation (its nurses work from it every day), 10:05-10:50 on day 6, while the owner works on cardiology.
    strangers(clinic, 7).forEach((p, i) => clinic.access(NURSE, p, at(6, 10, 5 + i * 7), { address: '10.2.1.11' }));
    const alerts = await alertsOf(clinic);
    const c = credentialsOf(alerts);
    assert.equal(c.length, 1, JSON.stringify(forUser(alerts, NURSE)));
    assert.ok(
      c[0].evidence.some((e) => /7 patients nothing explains opened from a network the user used on 1 day/.test(e)),
      c[0].evidence.join('; '),
    );
    assert.ok(c[0].evidence.some((e) => /none of them under care where that network's own staff work/.test(e)));
    assert.equal(c[0].firstAccess, new Date(at(6, 10, 5)).toISOString());
    // One incident, not seven curiosities besides.
    assert.deepEqual(
      forUser(alerts, NURSE).map((a) => a.scenario),
      ['credentials'],
    );
  });

  test("an outside address in the owner's own hours, opening charts nothing explains, is flagged", async () => {
    const clinic = new TinyClinic();
    strangers(clinic, 5).forEach((p, i) => clinic.access(NURSE, p, at(9, 11, i * 6), { address: '192.168.50.7' }));
    const c = credentialsOf(await alertsOf(clinic));
    assert.equal(c.length, 1);
    assert.ok(
      c[0].evidence.some((e) => /a network no one else works from/.test(e)),
      c[0].evidence.join('; '),
    );
  });

  test("an outside address used on two nights for a good share of a part-timer's events is still not where she works", async () => {
    const clinic = new TinyClinic();
    clinic.staff('part-timer', { family: 'Parttime', given: 'Pia' }, { role: 'nurse', org: 'cardio', ward: true });
    for (let d = 0; d < 4; d++) {
      for (let k = 0; k < 3; k++) {
        clinic.access('part-timer', clinic.wards.cardio.patients[k], at(d, 9, k * 10), { address: '10.1.1.10' });
        clinic.access('part-timer', clinic.wards.cardio.patients[k], at(d, 9, k * 10 + 1), { subtype: 'create', address: '10.1.1.10' });
      }
    }
    // 16 of her 40 events: two nights from home, charts nothing explains.
    for (const night of [5, 6])
      strangers(clinic, 8, `night${night}`).forEach((p, i) => clinic.access('part-timer', p, at(night, 2, i * 6), { address: '192.168.104.119' }));
    const c = credentialsOf(await alertsOf(clinic), 'part-timer');
    assert.equal(c.length, 1);
    assert.ok(
      c[0].evidence.some((e) => /outside the hours the user works/.test(e)),
      c[0].evidence.join('; '),
    );
  });

  test('covering a shift on another ward from its workstation (its own patients) is not credentials', async () => {
    const clinic = new TinyClinic();
    const surgery = clinic.wards.surgery.patients;
    for (let k = 0; k < 8; k++) clinic.access(NURSE, surgery[k], at(6, 14, k * 6), { address: '10.2.1.11' });
    const alerts = await alertsOf(clinic);
    assert.deepEqual(credentialsOf(alerts), [], JSON.stringify(forUser(alerts, NURSE)));
  });

  test('roaming between two workstations of one ward, back and forth for an hour, is not flagged at all', async () => {
    const clinic = new TinyClinic();
    const ward = clinic.wards.cardio;
    for (let k = 0; k < 30; k++) clinic.access(NURSE, ward.patients[k % 6], at(7, 9, k * 2), { address: ward.hosts[k % 2] });
    assert.deepEqual(forUser(await alertsOf(clinic), NURSE), []);
  });

  test('where addresses come from a pool (no one has a usual network), a curious read from one of them is curiosity, not credentials', async () => {
    const clinic = new TinyClinic();
    clinic.events.forEach((e, i) => {
      // Every event from a workstation handed an address anywhere in 10.9.0.0/16.
      (e.agent as Array<{ network: { address: string } }>)[0].network.address = `10.9.${(i * 37) % 251}.${((i * 11) % 200) + 20}`;
    });
    // Four charts of strangers, read at one of those workstations.
    strangers(clinic, 4).forEach((p, i) => clinic.access(NURSE, p, at(6, 10, 5 + i * 9), { address: '10.9.77.5' }));
    const alerts = await alertsOf(clinic);
    assert.deepEqual(credentialsOf(alerts), [], JSON.stringify(credentialsOf(alerts)));
    assert.deepEqual(
      forUser(alerts, NURSE).map((a) => a.scenario),
      ['curiosity'],
    );
  });

  test('two distant addresses overlapping in time: the same ward patients, alternating within minutes, are one account in two places', async () => {
    const clinic = new TinyClinic();
    for (let k = 0; k < 10; k++) {
      clinic.access(NURSE, 'cardio-pt-001', at(7, 9, k * 4), { address: '10.1.1.10' });
      clinic.access(NURSE, 'cardio-pt-002', at(7, 9, k * 4 + 2), { address: '172.20.9.14' });
    }
    const c = credentialsOf(await alertsOf(clinic));
    assert.equal(c.length, 1);
    assert.ok(c[0].evidence.some((e) => /two places at once/.test(e)));
  });

  test('after the employment end an outside address is the terminated account, not a second credentials alert', async () => {
    const clinic = new TinyClinic();
    clinic.staff('leaver', { family: 'Leaver', given: 'Lee' }, { role: 'nurse', org: 'cardio', ward: true, end: '2025-03-10', active: false });
    for (let d = 0; d <= 7; d++) {
      clinic.access('leaver', 'cardio-pt-001', at(d, 9), { address: '10.1.1.10' });
      clinic.access('leaver', 'cardio-pt-001', at(d, 9, 1), { subtype: 'create', address: '10.1.1.10' });
    }
    strangers(clinic, 6).forEach((p, i) => clinic.access('leaver', p, at(11, 2, i * 5), { address: '100.64.3.7' }));
    const alerts = await alertsOf(clinic);
    assert.deepEqual(
      forUser(alerts, 'leaver').map((a) => a.scenario),
      ['terminated'],
    );
  });
});

describe('credentials without network addresses', () => {
  test('charts nothing explains, opened at night by a day nurse, are flagged from the hour alone', async () => {
    const clinic = new TinyClinic();
    strangers(clinic, 5).forEach((p, i) => clinic.access(NURSE, p, at(8, 2, i * 8)));
    withoutAddresses(clinic);
    const c = credentialsOf(await alertsOf(clinic));
    assert.equal(c.length, 1);
    assert.ok(
      c[0].evidence.some((e) =>
        /5 patients nothing explains opened between 2:00 and 3:00 on 2025-03-11 in a session that began outside the user's hours/.test(e),
      ),
      c[0].evidence.join('; '),
    );
    assert.ok(c[0].evidence.some((e) => /no network address/.test(e)));
  });

  test('an overtime night of ward work, and a sweep that began in the shift and ran past its end, are not credentials', async () => {
    const clinic = new TinyClinic();
    // Overtime: the ward's own patients at 2 am, with charting.
    for (let k = 0; k < 5; k++) {
      clinic.access('cardio-nurse-5', clinic.wards.cardio.patients[k], at(8, 2, k * 8));
      clinic.access('cardio-nurse-5', clinic.wards.cardio.patients[k], at(8, 2, k * 8 + 1), { subtype: 'create' });
    }
    // A session of unexplained reading from 12:40 (in the shift) to 14:20 (after it).
    strangers(clinic, 11, 'late').forEach((p, i) => clinic.access('cardio-nurse-6', p, at(9, 12, 40 + i * 10)));
    withoutAddresses(clinic);
    const alerts = await alertsOf(clinic);
    assert.deepEqual(forUser(alerts, 'cardio-nurse-5'), []);
    assert.deepEqual(credentialsOf(alerts, 'cardio-nurse-6'), [], JSON.stringify(forUser(alerts, 'cardio-nurse-6')));
  });

  test("agent.location stands in for the address: two wards' workstations alternating within minutes", async () => {
    const clinic = new TinyClinic();
    for (let k = 0; k < 10; k++) {
      clinic.access(NURSE, 'cardio-pt-001', at(7, 9, k * 4));
      clinic.access(NURSE, 'cardio-pt-002', at(7, 9, k * 4 + 2));
    }
    withoutAddresses(clinic);
    const own = clinic.events.filter((e) => (e.agent as Array<{ who: { reference: string } }>)[0].who.reference === `Practitioner/${NURSE}`);
    // Every event of the nurse names her ward's workstation place, the alternating ones a place on another floor.
    for (const e of own) {
      const minute = new Date(String(e.recorded)).getUTCMinutes();
      const away = String(e.recorded) >= new Date(at(7, 9)).toISOString() && String(e.recorded) < new Date(at(7, 10)).toISOString() && minute % 4 === 2;
      (e.agent as Array<Record<string, unknown>>)[0].location = { reference: away ? 'Location/ws-floor-9' : 'Location/ws-cardio' };
    }
    const c = credentialsOf(await alertsOf(clinic));
    assert.equal(c.length, 1);
    assert.ok(c[0].evidence.some((e) => /two places at once/.test(e)));
  });
});
