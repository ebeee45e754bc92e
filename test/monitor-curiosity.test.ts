/**
 * Curiosity against the peers' rate of unlinked reading, allowing for how much that rate differs
 * from one peer to the next: a colleague's habit of looking in on charts nothing links, within the
 * spread the ward's own nurses show, is not a snoop; the same looks where no one on the ward has
 * such a habit still are.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { negBinomialQuantile, negBinomialTail, poissonTail } from '../src/monitor/scan/stats.js';
import { alertsOf, at, TinyClinic } from './helpers/monitorFixture.js';

/** Each cardiology nurse opens this many charts no record links to anyone, one a day from day 1. */
function clinicWithHabits(habits: number[]): TinyClinic {
  const clinic = new TinyClinic();
  let n = 0;
  habits.forEach((count, i) => {
    for (let k = 0; k < count; k++, n++) {
      const id = `loose-${n}`;
      clinic.patient(id, { family: `Loose${n}`, given: 'Al', birthDate: `19${40 + (n % 50)}-0${1 + (n % 9)}-1${n % 10}`, line: `${n} Elsewhere Lane ${n}` });
      clinic.access(`cardio-nurse-${i + 1}`, id, at(1 + (k % 13), 10 + (i % 6), 30));
    }
  });
  return clinic;
}

describe('monitor curiosity', () => {
  test("a habit of unlinked reading within the spread of the peers' habits is not curiosity", async () => {
    // Median 3 over the fortnight; nurse 8 opens 10, a third of the way past the widest of the rest.
    const alerts = await alertsOf(clinicWithHabits([0, 0, 1, 2, 4, 6, 7, 10]));
    assert.deepEqual(
      alerts.filter((a) => a.scenario === 'curiosity' || a.scenario === 'department').map((a) => a.user),
      [],
    );
  });

  test('the same ten charts where the peers open almost none are still curiosity', async () => {
    const alerts = await alertsOf(clinicWithHabits([0, 0, 0, 1, 0, 1, 0, 10]));
    // (In a ward where the median is none, the single looks of nurses 4 and 6 are curiosity too, as before.)
    assert.ok(alerts.some((a) => a.scenario === 'curiosity' && a.user === 'Practitioner/cardio-nurse-8'));
  });

  test('the negative binomial tail: a Poisson without extra variance, a direct sum of the mass function with it', () => {
    for (const [k, mean] of [
      [1, 0.3],
      [3, 1],
      [12, 4.5],
    ])
      assert.equal(negBinomialTail(k, mean, mean), poissonTail(k, mean));
    // r = 2, q = 0.4: P(X = x) = C(x + 1, x) q² (1 − q)^x; mean 3, variance 7.5.
    const pmf = (x: number) => (x + 1) * 0.16 * 0.6 ** x;
    for (const k of [1, 2, 5, 10, 20]) {
      let below = 0;
      for (let x = 0; x < k; x++) below += pmf(x);
      assert.ok(Math.abs(negBinomialTail(k, 3, 7.5) - (1 - below)) < 1e-12, `k = ${k}`);
    }
    // The quantile: the smallest count whose tail is within α.
    for (const alpha of [0.05, 1e-3, 1e-6]) {
      const k = negBinomialQuantile(alpha, 3, 7.5);
      assert.ok(negBinomialTail(k, 3, 7.5) <= alpha && (k === 1 || negBinomialTail(k - 1, 3, 7.5) > alpha), `α = ${alpha}`);
    }
  });
});
