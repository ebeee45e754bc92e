/**
 * Whole simulated hospitals, end to end: incidents of every scenario are found, legitimate work
 * (night shifts, float nurses, emergency break-the-glass, staff who are patients, relatives on the
 * ward, billing batches) is not flagged beyond the false-alert budget.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { SCENARIO_CODES, type TruthIncident } from '../src/monitor/catalog.js';
import { evaluate, matches } from '../src/monitor/evaluate.js';
import { scan } from '../src/monitor/scan/index.js';
import { simulate } from '../src/monitor/simulate/index.js';
import { tempDir } from './helpers/tempDir.js';

const root = tempDir('carewall-monitor-sim-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('simulated hospitals', () => {
  test('every scenario is found, false alerts stay under 1 per 1,000 users per day, almost all access is explained', async () => {
    const found = new Map<string, { incidents: number; found: number }>();
    let falseAlerts = 0;
    let userDays = 0;
    for (const seed of [11, 12]) {
      const out = path.join(root, `s${seed}`);
      const users = 160;
      const days = 21;
      await simulate({ seed, users, patients: 2500, days, out });
      const truth: TruthIncident[] = fs
        .readFileSync(path.join(out, 'truth.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const { alerts, summary } = await scan(out);
      assert.ok(summary.explainedShare > 0.95, `explained ${summary.explainedShare}`);
      const e = evaluate(alerts, truth);
      // A personal tie the budget did not make an alert is on the watch list, never dropped.
      for (const m of e.missed.filter((t) => ['self', 'family', 'coworker', 'neighbour', 'vip'].includes(t.scenario) && t.stealth === 'stealthy'))
        assert.ok(
          summary.watchList.some((w) => w.user === m.user && w.scenario === m.scenario),
          `${m.scenario} by ${m.user}: neither an alert nor on the watch list`,
        );
      for (const [s, v] of Object.entries(e.byScenario)) {
        const acc = found.get(s) ?? { incidents: 0, found: 0 };
        acc.incidents += v.incidents;
        acc.found += v.found;
        found.set(s, acc);
      }
      falseAlerts += e.falseAlerts;
      userDays += users * days;
      for (const a of alerts) {
        assert.ok(a.score >= 0.5 && a.score <= 1);
        assert.ok(a.firstAccess <= a.lastAccess);
        assert.ok(a.evidence.length > 0);
      }
    }
    let total = 0;
    let hits = 0;
    for (const s of SCENARIO_CODES) {
      const v = found.get(s)!;
      assert.ok(v.incidents >= 2, `${s}: the simulator injected ${v.incidents} incidents`);
      // Single looks at a neighbour or VIP can fall below the scan's level (they are then on the watch list, checked above),
      // and a repeat offender whose one incident is such a look has one alert, not two.
      const slack = ['neighbour', 'vip', 'coworker', 'family', 'repeat'].includes(s) ? 2 : 1;
      assert.ok(v.found >= v.incidents - slack, `${s}: found ${v.found} of ${v.incidents}`);
      total += v.incidents;
      hits += v.found;
    }
    // A single look at a neighbour or a VIP, in a hospital where about 1% of the charts opened in
    // explained work are of neighbours or VIPs, is a watch-list item, not an alert: recall is lower
    // than when every tie alerted, the price of not flooding hospitals where ties are common.
    assert.ok(hits / total >= 0.85, `overall recall ${hits}/${total}`);
    assert.ok((1000 * falseAlerts) / userDays <= 1, `${falseAlerts} false alerts in ${userDays} user-days`);
  });

  test('the matching rule: same user and scenario, and a shared patient or an overlapping window', () => {
    const incident: TruthIncident = {
      id: 'i',
      user: 'Practitioner/a',
      patients: ['Patient/p'],
      scenario: 'family',
      window: { start: '2025-03-03T10:00:00.000Z', end: '2025-03-03T11:00:00.000Z' },
    };
    const alert = {
      id: 'x',
      user: 'Practitioner/a',
      patients: ['Patient/q'],
      scenario: 'family' as const,
      score: 0.9,
      firstAccess: '2025-03-03T10:30:00.000Z',
      lastAccess: '2025-03-03T10:40:00.000Z',
      evidence: ['e'],
    };
    assert.ok(matches(alert, incident));
    assert.ok(matches({ ...alert, firstAccess: '2025-03-05T10:00:00.000Z', lastAccess: '2025-03-05T10:00:00.000Z', patients: ['Patient/p'] }, incident));
    assert.ok(!matches({ ...alert, firstAccess: '2025-03-05T10:00:00.000Z', lastAccess: '2025-03-05T10:00:00.000Z' }, incident));
    assert.ok(!matches({ ...alert, scenario: 'curiosity' }, incident));
    assert.ok(!matches({ ...alert, user: 'Practitioner/b' }, incident));
  });
});
