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
import { forUser } from './helpers/monitorFixture.js';
import { clinicWith, SNOOP } from './helpers/streetClinic.js';
import type { TinyClinic } from './helpers/monitorFixture.js';

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
