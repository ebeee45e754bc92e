/** The pure parts of the access rules: how Consents are read, and how settings are checked. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Consent } from '@medplum/fhirtypes';
import { loadSettings } from '../src/config.js';
import { consentRules } from '../src/access/consent.js';
import { scopeAllowing } from '../src/access/systemScopes.js';
import { tempDir } from './helpers/tempDir.js';

const base: Consent = {
  resourceType: 'Consent',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ text: 'privacy' }],
  patient: { reference: 'Patient/p1' },
};
const actor = (reference: string) => ({ role: { text: 'actor' }, reference: { reference } });

test('consent shapes become deny and permit-only rules', () => {
  assert.deepEqual(consentRules({ ...base, provision: { type: 'deny', actor: [actor('Practitioner/a')] } }), [
    { effect: 'deny', actors: ['Practitioner/a'], purposes: null, startsAt: undefined, endsAt: undefined },
  ]);
  assert.deepEqual(
    consentRules({ ...base, provision: { type: 'deny', provision: [{ type: 'permit', actor: [actor('Practitioner/b'), actor('Organization/o')] }] } })[0],
    {
      effect: 'permit-only',
      actors: ['Practitioner/b', 'Organization/o'],
      purposes: null,
      startsAt: undefined,
      endsAt: undefined,
    },
  );
  assert.equal(consentRules({ ...base, provision: { type: 'deny' } })[0].actors, null, 'deny without actors denies everyone');
  const nested = consentRules({
    ...base,
    provision: {
      type: 'permit',
      provision: [
        { type: 'deny', actor: [actor('Practitioner/c')], purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HPAYMT' }] },
      ],
    },
  });
  assert.deepEqual(
    nested.map((r) => [r.effect, r.actors, r.purposes]),
    [['deny', ['Practitioner/c'], ['HPAYMT']]],
  );
  assert.deepEqual(
    consentRules({ ...base, provision: { type: 'permit', actor: [actor('Practitioner/d')], period: { start: '2026-01-01', end: '2027-01-01' } } }),
    [{ effect: 'permit-only', actors: ['Practitioner/d'], purposes: null, startsAt: '2026-01-01', endsAt: '2027-01-01' }],
  );
});

test('only active privacy consents count', () => {
  const deny = { type: 'deny' as const, actor: [actor('Practitioner/a')] };
  assert.deepEqual(consentRules({ ...base, status: 'inactive', provision: deny }), []);
  assert.deepEqual(consentRules({ ...base, status: 'draft', provision: deny }), []);
  assert.deepEqual(
    consentRules({ ...base, scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] }, provision: deny }),
    [],
  );
  assert.deepEqual(consentRules({ ...base }), [], 'no provision, no rule');
  assert.deepEqual(
    consentRules({ ...base, provision: { type: 'deny', actor: [actor('https://elsewhere.example/Practitioner/a')] } })[0].actors,
    null,
    'an actor that is not a local reference cannot be matched: the denial applies to everyone (fails closed)',
  );
});

test('a mistyped access setting stops the start with the name of the setting', () => {
  const dir = tempDir();
  const write = (access: unknown) => fs.writeFileSync(path.join(dir, 'carewall.json'), JSON.stringify({ access }));
  write({ breakGlassMinutes: 30 });
  const ok = loadSettings(dir, {});
  assert.equal(ok.access.breakGlassMinutes, 30);
  assert.equal(ok.access.encounterFollowUpDays, 30, 'the other settings keep their defaults');
  for (const [bad, name] of [
    [{ encounterFollowUpDays: -1 }, 'encounterFollowUpDays'],
    [{ breakGlassMinutes: '60' }, 'breakGlassMinutes'],
    [{ notifyWebhooks: ['ftp://x'] }, 'notifyWebhooks'],
    [{ sensitiveByRole: { physician: 'HIV' } }, 'sensitiveByRole'],
    [{ breakGlassRevealsSensitive: 'yes' }, 'breakGlassRevealsSensitive'],
  ] as const) {
    write(bad);
    assert.throws(() => loadSettings(dir, {}), new RegExp(`access\\.${name}`));
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an appointment relationship is bounded: none without a start, at most a day of its stated length', async () => {
  const { derive } = await import('../src/access/relationships.js');
  const appointment = (extra: Record<string, unknown>) =>
    derive(
      {
        resourceType: 'Appointment',
        id: 'a1',
        status: 'booked',
        participant: [
          { actor: { reference: 'Patient/p1' }, status: 'accepted' },
          { actor: { reference: 'Practitioner/d' }, status: 'accepted' },
        ],
        ...extra,
      } as never,
      new Date(),
    );
  // The validator refuses a booked appointment without a start; the projection must not open an unbounded window if one is stored anyway.
  assert.deepEqual(appointment({}).relationships, []);
  const long = appointment({ start: '2026-01-01T09:00:00Z', end: '2036-01-01T09:00:00Z' }).relationships[0];
  assert.equal(long.startsAt, '2026-01-01T09:00:00Z');
  assert.equal(long.endsAt, '2026-01-02T09:00:00.000Z');
  const short = appointment({ start: '2026-01-01T09:00:00Z', end: '2026-01-01T09:30:00Z' }).relationships[0];
  assert.equal(short.endsAt, '2026-01-01T09:30:00Z');
});

test('system clients: a wildcard scope does not reach the equipment inventory, a scope naming it does, and no scope deletes a device', () => {
  assert.equal(scopeAllowing(['system/*.*'], 'read', 'Device'), undefined);
  assert.equal(scopeAllowing(['system/*.cruds'], 'update', 'DeviceDefinition'), undefined);
  assert.equal(scopeAllowing(['system/*.read'], 'read', 'Observation'), 'system/*.read');
  assert.equal(scopeAllowing(['system/Device.rs'], 'read', 'Device'), 'system/Device.rs');
  assert.equal(scopeAllowing(['system/Device.cruds', 'system/*.*'], 'delete', 'Device'), undefined);
});
