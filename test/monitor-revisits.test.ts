/**
 * The revisit ladder of the personal-tie test: a tied chart opened on day after day is compared
 * with how often the log's own unlinked looks come back on as many days, not only on "two days or
 * more"; and the alert budget charges such a test the largest p-value it can give within the level.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import type { Pair } from '../src/monitor/scan/accumulate.js';
import { AlertBudget } from '../src/monitor/scan/budget.js';
import { scan } from '../src/monitor/scan/index.js';
import { learnRevisits, revisitShare, revisitTails } from '../src/monitor/scan/revisits.js';
import { Rng } from '../src/monitor/simulate/random.js';
import { at, forUser } from './helpers/monitorFixture.js';
import { clinicWith, SNOOP } from './helpers/streetClinic.js';

const pair = (visits: number, wrote = false): Pair => ({ unexplained: 1, idleWeak: [], visits, wrote, days: [0] }) as unknown as Pair;

describe('monitor revisit ladder', () => {
  test("the log's shares of read-only pairs with v visits or more, with half a pair added", () => {
    // 100 read-only unexplained pairs: 90 of one visit, 8 of two, 2 of four; none of five. Charts
    // the user wrote in are reopened for the care written, and are not counted.
    const r = learnRevisits([
      ...Array.from({ length: 90 }, () => pair(1)),
      ...Array.from({ length: 8 }, () => pair(2)),
      pair(4),
      pair(4),
      ...Array.from({ length: 50 }, () => pair(6, true)),
    ]);
    assert.equal(revisitShare(r, 'any', 2), 10.5 / 101);
    assert.equal(revisitShare(r, 'any', 3), 2.5 / 101);
    assert.equal(revisitShare(r, 'any', 4), 2.5 / 101);
    assert.equal(revisitShare(r, 'any', 5), 0.5 / 101);
    const tails = revisitTails(r, 'any', 0.2);
    assert.equal(tails[0], -Math.expm1(-0.2 * (10.5 / 101)));
    for (let i = 1; i < tails.length; i++) assert.ok(tails[i] <= tails[i - 1]);
  });

  test('a ladder is charged the largest of its p-values within the level', () => {
    const budget = new AlertBudget(1000);
    budget.ladder([0.01, 0.001, 0.0001]);
    assert.equal(budget.expectedFalse(0.05), 0.01);
    assert.equal(budget.expectedFalse(0.005), 0.001);
    assert.equal(budget.expectedFalse(0.0001), 0.0001);
    assert.equal(budget.expectedFalse(0.00005), 0);
  });

  test('a neighbour opened on four days, where the unlinked looks of the log rarely come back, is an alert; on one day it is watched', async () => {
    // Lilac Road: the nurses' street, where treating neighbours is everyday explained work, so one
    // unlinked look at a neighbour is a watch-list item. Around it, the other nurses' ordinary
    // unlinked looks: one each at a few dozen charts, a few of them again on a second day.
    const withVisits = (times: number[]) => {
      const clinic = clinicWith('Lilac Road');
      const rng = new Rng(2806);
      for (let i = 1; i <= 120; i++)
        clinic.patient(`quiet-${i}`, { family: `Quiet${i}`, given: 'Di', birthDate: '1960-01-01', line: `${i} Quiet Lane`, phone: `+1-555-700-${1000 + i}` });
      for (let i = 1; i <= 120; i++) {
        const nurse = `street-nurse-${2 + (i % 5)}`;
        const day = rng.int(0, 12);
        clinic.access(nurse, `quiet-${i}`, at(day, 15, i % 60));
        if (i % 12 === 0) clinic.access(nurse, `quiet-${i}`, at(day + 1, 15, i % 60));
      }
      for (const t of times) clinic.access(SNOOP, 'next-door', t);
      return clinic;
    };
    const scanOf = async (times: number[]) => {
      const dir = withVisits(times).write();
      try {
        return await scan(dir);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const once = await scanOf([]);
    assert.deepEqual(
      forUser(once.alerts, SNOOP).filter((a) => a.scenario === 'neighbour'),
      [],
    );
    assert.ok(once.summary.watchList.some((w) => w.user === `Practitioner/${SNOOP}` && w.scenario === 'neighbour'));
    // The street clinic's own look is on day 6 at 14:00: three more days make four visits.
    const again = await scanOf([at(2, 16), at(5, 16), at(9, 16)]);
    const mine = forUser(again.alerts, SNOOP).filter((a) => a.scenario === 'neighbour');
    assert.equal(mine.length, 1, JSON.stringify(again.summary.watchList.filter((w) => w.user === `Practitioner/${SNOOP}`)));
    assert.deepEqual(mine[0].patients, ['Patient/next-door']);
    assert.ok(
      mine[0].evidence.some((e) => /opened on 4 separate visits or more \(4 days;/.test(e)),
      mine[0].evidence.join('; '),
    );
    // Reopened the same day, hours apart, counts as well: three visits on day 6.
    const sameDay = await scanOf([at(6, 9), at(6, 11)]);
    const today = forUser(sameDay.alerts, SNOOP).filter((a) => a.scenario === 'neighbour');
    assert.equal(today.length, 1);
    assert.ok(
      today[0].evidence.some((e) => /opened on 3 separate visits or more \(1 day;/.test(e)),
      today[0].evidence.join('; '),
    );
  });
});
