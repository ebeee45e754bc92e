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
import { alertsOf, at, forUser, TinyClinic } from './helpers/monitorFixture.js';
import { clinicWith, SNOOP } from './helpers/streetClinic.js';

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

describe('pattern weights (what closed cases taught) in the alert budget', () => {
  const scanWith = async (clinic: TinyClinic, adjustments: Array<{ scenario: 'neighbour'; group: string; weight: number }>) => {
    const dir = clinic.write();
    try {
      return await scan(dir, { adjustments });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  test("a weighed-down pattern's look goes to the watch list, for that role and department only", async () => {
    const theirs = await scanWith(clinicWith('Far Away Street'), [{ scenario: 'neighbour', group: 'nurse|org-cardio', weight: 2 }]);
    assert.deepEqual(forUser(theirs.alerts, SNOOP), []);
    const watched = theirs.summary.watchList.find((w) => w.user === `Practitioner/${SNOOP}` && w.scenario === 'neighbour');
    assert.ok(watched, 'watched, never dropped');
    assert.equal(watched.weight, 2);
    assert.ok(watched.p * 2 > watched.level && watched.p <= watched.level, `p ${watched.p}, level ${watched.level}: it alerted without the weight`);
    // The same weight for another department's nurses changes nothing for this one.
    const other = await scanWith(clinicWith('Far Away Street'), [{ scenario: 'neighbour', group: 'nurse|org-surgery', weight: 10 }]);
    assert.deepEqual(
      forUser(other.alerts, SNOOP).map((a) => a.scenario),
      ['neighbour'],
    );
  });

  test('a weight above the cap counts as 10: a look far more improbable than the level still alerts', async () => {
    const clinic = clinicWith('Far Away Street');
    for (const [i, id] of ['far-a', 'far-b', 'far-c'].entries()) {
      clinic.patient(id, { family: `Lilac${i}`, given: 'Jo', birthDate: `196${i}-01-01`, line: `${94 + i} Lilac Road`, phone: `+1-555-600-00${i}` });
      clinic.access('street-nurse-3', id, at(7, 10 + i));
    }
    const { alerts, summary } = await scanWith(clinic, [{ scenario: 'neighbour', group: 'nurse|org-cardio', weight: 1e9 }]);
    const three = forUser(alerts, 'street-nurse-3').find((a) => a.scenario === 'neighbour');
    assert.ok(three, JSON.stringify(summary.watchList.filter((w) => w.user.includes('street-nurse-3'))));
    assert.ok(
      three.evidence.some((e) => /× 10:/.test(e)),
      three.evidence.join('; '),
    );
  });
});

describe('monitor base rates: a tie few users show in unlinked work is not a habit', () => {
  test('users who look up their own charts do not make each other look ordinary: each is tested against explained work', async () => {
    const clinic = new TinyClinic();
    // Four cardiology nurses, each a patient too, each opening their own chart once, unlinked.
    for (const i of [1, 2, 3, 4]) {
      clinic.patient(
        `own-${i}`,
        { family: `Nursecardio${i}`, given: 'Pat', birthDate: `198${i}-0${i}-1${i}`, line: `${i} Nursecardio${i} Road`, phone: `+1-555-011-00${i}` },
        ['EMP'],
      );
      clinic.access(`cardio-nurse-${i}`, `own-${i}`, at(2 + i, 9));
    }
    const alerts = await alertsOf(clinic);
    for (const i of [1, 2, 3, 4]) {
      const mine = forUser(alerts, `cardio-nurse-${i}`).filter((a) => a.scenario === 'self');
      assert.equal(mine.length, 1, `cardio-nurse-${i}`);
      assert.ok(
        mine[0].evidence.some((e) => /base rate: 0 of \d+ patients the user's .* opened with an explanation are the user's own chart/.test(e)),
        mine[0].evidence.join('; '),
      );
    }
  });
});
