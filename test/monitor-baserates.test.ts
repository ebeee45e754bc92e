/**
 * Base rates learned from the hospital's own explained work: a personal tie that is common in
 * the care this role and department gives is weak evidence, and an unexplained look at such a
 * patient goes to the watch list instead of raising an alert; the same look where the tie is rare
 * in explained work is still an alert. Nothing the budget holds back is dropped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { scan } from '../src/monitor/scan/index.js';
import { at, DAY, START, TinyClinic, forUser } from './helpers/monitorFixture.js';

const SNOOP = 'street-nurse-1';

/**
 * Six more cardiology nurses who live on one street; ten of the ward's patients live on `street`.
 * With `street` = the nurses' street, treating neighbours is everyday explained work there.
 */
function clinicWith(street: string): TinyClinic {
  const clinic = new TinyClinic();
  const nurses: string[] = [];
  for (let i = 1; i <= 6; i++)
    nurses.push(
      clinic.staff(
        `street-nurse-${i}`,
        { family: `Streetnurse${i}`, given: 'Ash', birthDate: `197${i}-04-0${i}`, line: `${10 + i} Lilac Road`, phone: `+1-555-300-00${i}` },
        { role: 'nurse', org: 'cardio', ward: true },
      ),
    );
  const treated: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const id = clinic.patient(`local-${i}`, {
      family: `Local${i}`,
      given: 'Bo',
      birthDate: `194${i % 10}-06-0${1 + (i % 9)}`,
      line: `${40 + i} ${street}`,
      phone: `+1-555-400-0${String(i).padStart(2, '0')}`,
    });
    clinic.encounter(id, 'cardio', START - DAY, START + clinic.days * DAY);
    treated.push(id);
  }
  // Ward work with clinical action: every street nurse, every day, some of those patients.
  for (let d = 0; d < clinic.days; d++)
    nurses.forEach((n, i) => {
      for (let k = 0; k < 3; k++) {
        const p = treated[(d + i * 2 + k * 3) % treated.length];
        clinic.access(n, p, at(d, 9 + k, i * 5));
        clinic.access(n, p, at(d, 9 + k, i * 5 + 1), { subtype: 'create' });
      }
    });
  // The look in question: a neighbour on Lilac Road no record links to any nurse or ward.
  clinic.patient('next-door', { family: 'Nextdoor', given: 'Cy', birthDate: '1955-05-05', line: '90 Lilac Road', phone: '+1-555-500-001' });
  clinic.access(SNOOP, 'next-door', at(6, 14));
  return clinic;
}

async function scanOf(clinic: TinyClinic) {
  const dir = clinic.write();
  try {
    return await scan(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('monitor base rates and the watch list', () => {
  test('a neighbour tie that is rare in explained work is still an alert, with the base rate it was checked against', async () => {
    const { alerts } = await scanOf(clinicWith('Far Away Street'));
    const mine = forUser(alerts, SNOOP);
    assert.deepEqual(
      mine.map((a) => a.scenario),
      ['neighbour'],
    );
    assert.deepEqual(mine[0].patients, ['Patient/next-door']);
    assert.ok(
      mine[0].evidence.some((e) => /base rate: 0 of \d+ patients .* are neighbours/.test(e)),
      mine[0].evidence.join('; '),
    );
    assert.ok(mine[0].evidence.some((e) => /the scan's level/.test(e)));
  });

  test('the same tie, common in the explained work of the role and department, goes to the watch list instead', async () => {
    const { alerts, summary } = await scanOf(clinicWith('Lilac Road'));
    assert.deepEqual(forUser(alerts, SNOOP), [], JSON.stringify(forUser(alerts, SNOOP)));
    const watched = summary.watchList.find((w) => w.user === `Practitioner/${SNOOP}` && w.scenario === 'neighbour');
    assert.ok(watched, JSON.stringify(summary.watchList));
    assert.deepEqual(watched.patients, ['Patient/next-door']);
    assert.ok(watched.p > 0 && watched.p < 1);
    assert.ok(watched.evidence.some((e) => /are neighbours/.test(e) && /expected/.test(e)));
    // The watch list is ranked: the most improbable first.
    for (let i = 1; i < summary.watchList.length; i++) assert.ok(summary.watchList[i - 1].p <= summary.watchList[i].p);
  });
});
