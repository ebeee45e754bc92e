/** Versions and ranges as advisories write them (src/advisories/versions.ts): vers, vls, firmware versions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, inRange } from '../src/advisories/index.js';

test('vers ranges of several intervals hold the versions inside each interval and none between them', () => {
  const r = 'vers:generic/>=1.0|<1.5|>=2.0|<2.3';
  const inside = ['0.9', '1.0', '1.2', '1.5', '1.7', '2.0', '2.1', '2.3', '3.0'].filter((v) => inRange(v, r));
  assert.deepEqual(inside, ['1.0', '1.2', '2.0', '2.1']);
  assert.equal(inRange('2.1.4', 'vers:generic/>=2.0|<2.1.4'), false);
  assert.equal(inRange('2.1', '<=2.1'), true);
  assert.equal(inRange('5', 'vers:generic/>=2'), true);
  assert.equal(inRange('3.0', 'vers:generic/*'), true);
  assert.equal(inRange('banana', '<=2.1'), undefined, 'what is not a version is never compared');
});

test('firmware versions: a leading v, service packs, patch letters', () => {
  assert.equal(compareVersions('V3.0 SP2', '3.0.0.2'), 0);
  assert.equal(compareVersions('v2.0', '2.0.0'), 0);
  assert.equal(compareVersions('2.1.4b', '2.1.4'), 1);
  assert.equal(compareVersions('2.1.4b', '2.1.5'), -1);
  assert.equal(compareVersions('1.10', '1.9'), 1);
  assert.equal(compareVersions('abc', '1.0'), undefined);
});
