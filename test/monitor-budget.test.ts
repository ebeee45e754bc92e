/**
 * The alert budget's accounting: every test made is charged for the false alerts it can give at
 * the scan's level, so that the level it sets keeps the whole scan within the budget.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlertBudget } from '../src/monitor/scan/budget.js';

describe('monitor alert budget', () => {
  test('an empirical tail is charged at its own smallest share, whatever the number of tests (1/49·49 < 1 in doubles)', () => {
    for (const tests of [49, 98, 103, 107, 7_700, 7_723]) {
      const budget = new AlertBudget(1000);
      // A crowd of five readers fires five alerts when its share k/tests is the level.
      budget.uniform(tests, () => 5);
      assert.equal(budget.expectedFalse(1 / tests), 5, `${tests} tests`);
      assert.equal(budget.expectedFalse(2 / tests), 10, `${tests} tests`);
      assert.equal(budget.expectedFalse(0.99 / tests), 0, `${tests} tests`);
    }
  });
});
