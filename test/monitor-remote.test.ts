/**
 * Remote work against the hospital's own base rate: where the ward's nurses work from their own
 * home networks on several days, opening a couple of charts nothing explains each time, one more
 * nurse doing the same at a slightly brisker pace is a watch-list item, not a credentials alert;
 * an address never seen for a user, used in her shift while she works on the ward (two places at
 * once) to open charts nothing explains, is still an alert.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { scan } from '../src/monitor/scan/index.js';
import { at, TinyClinic, forUser } from './helpers/monitorFixture.js';

const REMOTE = 'cardio-nurse-3';
const VICTIM = 'cardio-nurse-8';
const HOME_DAYS = [1, 3, 5, 8, 10];

let strangerCount = 0;
/** Patients on file with no care here: nothing in the records explains opening them. */
function stranger(clinic: TinyClinic): string {
  const i = strangerCount++;
  return clinic.patient(`stranger-${i}`, {
    family: `Faraway${i}`,
    given: 'Al',
    birthDate: `19${40 + (i % 50)}-04-04`,
    line: `${i + 1} Remote Road`,
    city: 'Farfield',
  });
}

function clinicWithRemoteWork(): TinyClinic {
  const clinic = new TinyClinic();
  // Every other nurse of both wards works from her own home network (one /24 each) on five days,
  // two charts nothing explains each time, in her own hours: the hospital's explained pace of remote work.
  let home = 0;
  for (const org of ['cardio', 'surgery'] as const)
    for (const nurse of clinic.wards[org].nurses) {
      home++;
      if (nurse === REMOTE || nurse === VICTIM) continue;
      for (const d of HOME_DAYS)
        for (let k = 0; k < 2; k++) clinic.access(nurse, stranger(clinic), at(d, 11, 10 + k * 20), { address: `172.16.${home}.${2 + d}` });
    }
  // The nurse under test: the same five days from her home, three charts a day instead of two.
  for (const d of HOME_DAYS) for (let k = 0; k < 3; k++) clinic.access(REMOTE, stranger(clinic), at(d, 11, 5 + k * 15), { address: `172.16.99.${2 + d}` });
  // Someone else on the victim's login from an address never seen for her, while she works on the ward.
  for (let k = 0; k < 12; k++) {
    clinic.access(VICTIM, clinic.wards.cardio.patients[k % 6], at(9, 10, k * 3), { address: clinic.wards.cardio.hosts[1] });
    clinic.access(VICTIM, stranger(clinic), at(9, 10, k * 3 + 1), { address: '192.168.77.9' });
  }
  return clinic;
}

describe('credentials with the base rate of remote work', () => {
  test('a home network as common as the ward’s own remote work goes to the watch list; a stolen login from a new address still alerts', async () => {
    const dir = clinicWithRemoteWork().write();
    try {
      const { alerts, summary } = await scan(dir);
      const remote = forUser(alerts, REMOTE).filter((a) => a.scenario === 'credentials');
      assert.deepEqual(remote, [], JSON.stringify(remote));
      const watched = summary.watchList.find((w) => w.user === `Practitioner/${REMOTE}` && w.scenario === 'credentials');
      assert.ok(watched, JSON.stringify(summary.watchList));
      assert.ok(
        watched.evidence.some((e) => /15 patients nothing explains opened from a network the user used on 5 day\(s\)/.test(e)),
        watched.evidence.join('; '),
      );
      assert.ok(
        watched.evidence.some((e) => /a day where the .*staff work from their own recurring outside networks/.test(e)),
        watched.evidence.join('; '),
      );

      const stolen = forUser(alerts, VICTIM).filter((a) => a.scenario === 'credentials');
      assert.equal(stolen.length, 1, JSON.stringify(forUser(alerts, VICTIM)));
      assert.ok(
        stolen[0].evidence.some((e) => /alternations within 5 minutes .* a network the user rarely uses/.test(e)),
        stolen[0].evidence.join('; '),
      );
      assert.ok(
        stolen[0].evidence.some((e) => /12 patients nothing explains opened from a network the user used on 1 day/.test(e)),
        stolen[0].evidence.join('; '),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
