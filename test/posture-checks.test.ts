/**
 * Each measured posture check (issue 27) against the situation it detects and the one it accepts,
 * built as facts: an administrator without a second factor, a restore test older than its limit,
 * an account of someone who left, and their good counterparts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CHECKS,
  DORMANT_DAYS,
  RESTORE_TEST_DAYS,
  SHARED_ADDRESSES_AT_ONCE,
  VERIFY_DAYS,
  olderRelease,
  runChecks,
  type AccountFact,
  type PostureFacts,
} from '../src/posture/checks.js';
import { combine, nextSteps, score, type Attestation } from '../src/posture/scoring.js';
import { ITEM_CHECKS, frameworkById, type Framework } from '../src/posture/index.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const account = (over: Partial<AccountFact>): AccountFact => ({
  username: 'u',
  roles: ['nurse'],
  totpRequired: false,
  disabled: false,
  lastLoginAt: ago(1),
  createdAt: ago(400),
  practitionerActive: true,
  ...over,
});
const facts = (over: Partial<PostureFacts> = {}): PostureFacts => ({
  now: NOW,
  targets: { recoveryHours: 24, keyRotationDays: 365 },
  accounts: [account({ username: 'admin', roles: ['admin'], totpRequired: true }), account({ username: 'nurse' })],
  backups: { setUp: true, everyHours: 24, lastSuccess: ago(1), lastRestoreTest: { at: ago(10), ok: true, seconds: 3 * 3600 } },
  guard: { enabled: true, watching: true, shares: 2, configuredShares: 2, decoys: true },
  awareness: { lastCampaign: { name: 'November', sentFrom: ago(20), delivered: 100, phishProne: 0.03, reportRate: 0.6, trainedShare: 0.9 } },
  breakGlass: { last90Days: 4, unreviewedOverWeek: 0 },
  chartAccess: { reads30Days: 20_000, emergencyReads30Days: 40 },
  insiderCases: { open: 1, oldestOpenDays: 5 },
  audit: { witnesses: 1, checkpointSeconds: 5, lastVerification: { at: ago(3), ok: true } },
  keys: { source: 'file', keyFilePrivate: true, currentKeySince: ago(100) },
  equipment: { devices: 12, withOpenAdvisories: 0, lifeCriticalWithOpenAdvisories: 0, neverReported: 0 },
  software: { version: '1.4.2', feed: 'read', latest: '1.4.2' },
  ...over,
});
const result = (f: PostureFacts, id: string) => runChecks(f).find((r) => r.id === id)!;

describe('measured posture checks', () => {
  test('a clinic doing everything right is compliant on every check, and every check says what it cannot prove', () => {
    for (const r of runChecks(facts())) {
      assert.equal(r.status, 'compliant', `${r.id}: ${r.text}`);
      assert.ok(r.proves.length > 20 && r.cannot.length > 20, r.id);
      assert.equal(r.next, undefined);
    }
    assert.equal(new Set(CHECKS.map((c) => c.id)).size, CHECKS.length);
  });

  test('an administrator without a second factor makes the check partial, naming how many', () => {
    const r = result(
      facts({ accounts: [account({ username: 'a1', roles: ['admin'], totpRequired: true }), account({ username: 'a2', roles: ['security-admin'] })] }),
      'identity.privileged-second-factor',
    );
    assert.equal(r.status, 'partial');
    assert.match(r.text, /1 of 2 privileged accounts/);
    assert.ok(r.next);
    // A disabled administrator without it does not count.
    assert.equal(result(facts({ accounts: [account({ roles: ['admin'], disabled: true })] }), 'identity.privileged-second-factor').status, 'not-applicable');
  });

  test('an active account of someone who left is missing; one past its end date is partial', () => {
    assert.equal(result(facts({ accounts: [account({ practitionerActive: false })] }), 'identity.departed-staff').status, 'missing');
    assert.equal(result(facts({ accounts: [account({ validUntil: ago(3) })] }), 'identity.departed-staff').status, 'partial');
    assert.equal(result(facts({ accounts: [account({ practitionerActive: false, disabled: true })] }), 'identity.departed-staff').status, 'compliant');
  });

  test(`accounts unused for ${DORMANT_DAYS} days are found`, () => {
    const many = Array.from({ length: 10 }, (_, i) => account({ username: `n${i}`, lastLoginAt: i < 3 ? ago(DORMANT_DAYS + 1) : ago(2) }));
    const r = result(facts({ accounts: many }), 'identity.dormant-accounts');
    assert.equal(r.status, 'missing');
    assert.equal(r.figures.dormant, 3);
    assert.equal(
      result(facts({ accounts: [account({ lastLoginAt: undefined, createdAt: ago(5) })] }), 'identity.dormant-accounts').status,
      'compliant',
      'a new account is not dormant',
    );
  });

  test(`a restore test older than ${RESTORE_TEST_DAYS} days, or failed, turns the item missing; stale or absent backups too`, () => {
    const base = facts().backups;
    assert.equal(
      result(facts({ backups: { ...base, lastRestoreTest: { at: ago(RESTORE_TEST_DAYS + 1), ok: true } } }), 'backup.restore-tested').status,
      'missing',
    );
    assert.equal(result(facts({ backups: { ...base, lastRestoreTest: { at: ago(1), ok: false } } }), 'backup.restore-tested').status, 'missing');
    assert.equal(result(facts({ backups: { ...base, lastSuccess: ago(3) } }), 'backup.fresh').status, 'missing');
    assert.equal(result(facts({ backups: { setUp: false, everyHours: 24 } }), 'backup.fresh').status, 'missing');
  });

  test('the guard without decoys is partial; not watching is missing; no shares is not applicable', () => {
    const g = facts().guard;
    assert.equal(result(facts({ guard: { ...g, decoys: false } }), 'guard.watching').status, 'partial');
    assert.equal(result(facts({ guard: { ...g, watching: false } }), 'guard.watching').status, 'missing');
    assert.equal(result(facts({ guard: { ...g, configuredShares: 0, shares: 0 } }), 'guard.watching').status, 'not-applicable');
  });

  test('phishing simulations: none in a year is missing; a high phish-prone share is not compliant', () => {
    const c = facts().awareness.lastCampaign!;
    assert.equal(result(facts({ awareness: {} }), 'awareness.simulations').status, 'missing');
    assert.equal(result(facts({ awareness: { lastCampaign: { ...c, sentFrom: ago(400) } } }), 'awareness.simulations').status, 'missing');
    assert.equal(result(facts({ awareness: { lastCampaign: { ...c, phishProne: 0.15 } } }), 'awareness.simulations').status, 'partial');
    assert.equal(result(facts({ awareness: { lastCampaign: { ...c, phishProne: 0.35 } } }), 'awareness.simulations').status, 'missing');
  });
});

describe('more measured checks', () => {
  test('emergency accesses left unreviewed after a week', () => {
    assert.equal(result(facts({ breakGlass: { last90Days: 9, unreviewedOverWeek: 2 } }), 'access.break-glass-reviewed').status, 'partial');
    assert.equal(result(facts({ breakGlass: { last90Days: 9, unreviewedOverWeek: 6 } }), 'access.break-glass-reviewed').status, 'missing');
  });
  test('a misuse case left open for months', () => {
    assert.equal(result(facts({ insiderCases: { open: 2, oldestOpenDays: 45 } }), 'monitor.cases-worked').status, 'partial');
    assert.equal(result(facts({ insiderCases: { open: 2, oldestOpenDays: 120 } }), 'monitor.cases-worked').status, 'missing');
  });
  test('an audit log without an outside witness, or signed only on demand', () => {
    assert.equal(result(facts({ audit: { witnesses: 0, checkpointSeconds: 5 } }), 'audit.witnessed').status, 'partial');
    assert.equal(result(facts({ audit: { witnesses: 0, checkpointSeconds: 0 } }), 'audit.witnessed').status, 'missing');
  });
  test(`an audit log never verified, verified over ${VERIFY_DAYS} days ago, or whose verification failed`, () => {
    const a = facts().audit;
    assert.equal(result(facts({ audit: { ...a, lastVerification: undefined } }), 'audit.verified').status, 'missing');
    assert.equal(result(facts({ audit: { ...a, lastVerification: { at: ago(VERIFY_DAYS + 1), ok: true } } }), 'audit.verified').status, 'partial');
    const failed = result(facts({ audit: { ...a, lastVerification: { at: ago(1), ok: false } } }), 'audit.verified');
    assert.equal(failed.status, 'missing');
    assert.match(failed.text, /FAILED/);
    assert.match(failed.next!, /incident/);
  });
  test('equipment: a life-critical device with an open advisory is missing; a silent device is partial; none known is missing', () => {
    const e = facts().equipment;
    assert.equal(result(facts({ equipment: { ...e, withOpenAdvisories: 1, lifeCriticalWithOpenAdvisories: 1 } }), 'equipment.advisories').status, 'missing');
    assert.equal(result(facts({ equipment: { ...e, neverReported: 2 } }), 'equipment.advisories').status, 'partial');
    assert.equal(result(facts({ equipment: { ...e, devices: 0 } }), 'equipment.advisories').status, 'missing');
  });
});

describe('scores', () => {
  const framework: Framework = {
    id: 'test',
    edition: '1',
    title: 'test',
    practices: [
      {
        id: 'hicp-1',
        title: 'Identity',
        source: 's',
        items: [
          { id: 'hicp-1.s.a', title: 'Second factor', sizes: ['small', 'medium'], source: 's', checks: ['identity.privileged-second-factor'] },
          { id: 'hicp-1.s.b', title: 'Leavers', sizes: ['small'], source: 's', checks: [] },
          { id: 'hicp-1.l.a', title: 'Large only', sizes: ['large'], source: 's', checks: [] },
        ],
      },
      { id: 'hicp-2', title: 'Backups', source: 's', items: [{ id: 'hicp-2.s.a', title: 'Restore tested', sizes: ['small'], source: 's', checks: [] }] },
    ],
    threats: [
      { id: 'ransomware', title: 'Ransomware', source: 's', practices: ['hicp-2'] },
      { id: 'insider', title: 'Insider', source: 's', practices: ['hicp-1', 'hicp-2'] },
    ],
    goals: [],
  };
  const attestation = (item: string, expiresInDays: number): Attestation => ({
    item,
    status: 'compliant',
    owner: 'it-lead',
    note: 'checked the leavers list with HR',
    attestedAt: ago(10),
    expiresAt: new Date(NOW.getTime() + expiresInDays * 86_400_000).toISOString(),
  });

  test('measured, attested and unknown items; sizes; threats; the plain summary', () => {
    const findings = runChecks(facts());
    const card = score({
      framework,
      size: 'small',
      findings,
      itemChecks: { 'hicp-2.s.a': ['backup.restore-tested'] },
      attestations: [attestation('hicp-1.s.b', 30)],
      now: NOW,
    });
    assert.deepEqual(
      card.practices[0].items.map((i) => [i.id, i.status, i.source]),
      [
        ['hicp-1.s.a', 'compliant', 'measured'],
        ['hicp-1.s.b', 'compliant', 'attested'],
      ],
      'the large-only item is not asked of a small clinic',
    );
    assert.equal(card.summary.inPlace, 2);
    assert.match(card.summary.text, /^2 of 2 practices in place/);
    assert.deepEqual(
      card.threats.map((t) => t.score),
      [1, 1],
    );
  });

  test('an expired attestation counts as missing and says so; a failing check lowers the practice and its threats; next steps come worst first', () => {
    const findings = runChecks(facts({ backups: { setUp: true, everyHours: 24, lastSuccess: ago(1), lastRestoreTest: { at: ago(200), ok: true } } }));
    const card = score({
      framework,
      size: 'small',
      findings,
      itemChecks: { 'hicp-2.s.a': ['backup.restore-tested'] },
      attestations: [attestation('hicp-1.s.b', -1)],
      now: NOW,
    });
    const leavers = card.practices[0].items[1];
    assert.equal(leavers.status, 'missing');
    assert.match(leavers.evidence[0].text, /expired/);
    assert.equal(card.practices[0].score, 0.5);
    assert.equal(card.practices[1].score, 0);
    assert.equal(card.summary.inPlace, 0);
    assert.deepEqual(
      card.threats.map((t) => [t.id, t.score]),
      [
        ['ransomware', 0],
        ['insider', 0.25],
      ],
    );
    const steps = nextSteps(card, framework);
    assert.equal(steps[0].item, 'hicp-2.s.a', 'the practice that mitigates both threats first');
    assert.equal(combine(['compliant', 'not-applicable']), 'compliant');
    assert.equal(combine(['compliant', 'missing']), 'partial');
  });
});

describe('scores when a check or a practice does not apply', () => {
  const framework: Framework = {
    id: 'test',
    edition: '1',
    title: 'test',
    practices: [
      {
        id: 'hicp-1',
        title: 'Identity',
        source: 's',
        items: [{ id: 'hicp-1.s.a', title: 'Second factor', sizes: ['small'], source: 's', checks: ['identity.privileged-second-factor'] }],
      },
      {
        id: 'hicp-2',
        title: 'Endpoints',
        source: 's',
        items: [{ id: 'hicp-2.s.a', title: 'Endpoints protected', sizes: ['small'], source: 's', checks: ['guard.watching'] }],
      },
    ],
    threats: [{ id: 'ransomware', title: 'Ransomware', source: 's', practices: ['hicp-1', 'hicp-2'] }],
    goals: [],
  };
  const noShares = runChecks(facts({ guard: { enabled: false, watching: false, shares: 0, configuredShares: 0, decoys: false } }));

  test('a check that does not apply says nothing of its item: the item is left to its owner to attest', () => {
    const card = score({ framework, size: 'small', findings: noShares, itemChecks: {}, attestations: [], now: NOW });
    const item = card.practices[1].items[0];
    assert.deepEqual([item.status, item.source], ['missing', 'attested']);
    assert.equal(card.summary.total, 2);
  });

  test('a practice none of whose items applies is left out of the count and of the threats', () => {
    const na: Attestation = {
      item: 'hicp-2.s.a',
      status: 'not-applicable',
      owner: 'it',
      note: 'no computers of our own',
      attestedAt: ago(1),
      expiresAt: ago(-30),
    };
    const card = score({ framework, size: 'small', findings: noShares, itemChecks: {}, attestations: [na], now: NOW });
    assert.equal(card.summary.total, 1);
    assert.equal(card.summary.inPlace, 1);
    assert.equal(card.threats[0].score, 1, 'the threat is as covered as the practices that apply');
  });
});

describe('the mapping of checks to HICP items', () => {
  test('every mapped item is in the shipped framework, every mapped check exists, and every check bears on some item', () => {
    const framework = frameworkById('hicp', '2023')!;
    const items = new Set(framework.practices.flatMap((p) => p.items.map((i) => i.id)));
    const checks = new Set(CHECKS.map((c) => c.id));
    for (const [item, ids] of Object.entries(ITEM_CHECKS)) {
      assert.ok(items.has(item), `${item} is an item of HICP 2023`);
      for (const id of ids) assert.ok(checks.has(id), `${id} is a check`);
    }
    for (const c of checks)
      assert.ok(
        Object.values(ITEM_CHECKS).some((ids) => ids.includes(c)),
        `${c} bears on an item`,
      );
  });
});

describe('the checks of remote access, shared accounts, recovery time, keys, care-bound access and software', () => {
  test('an account that signed in from outside the clinic without a second factor', () => {
    const remote = (over: Partial<AccountFact>) => account({ signIns: { remote: 2, mostAddressesAtOnce: 1 }, ...over });
    const many = Array.from({ length: 12 }, (_, i) => remote({ username: `r${i}`, totpRequired: i > 0 }));
    const one = result(facts({ accounts: many }), 'identity.remote-second-factor');
    assert.equal(one.status, 'partial', 'one of twelve');
    assert.equal(one.figures.withoutSecondFactor, 1);
    assert.equal(
      result(facts({ accounts: [remote({ username: 'a' }), remote({ username: 'b', totpRequired: true })] }), 'identity.remote-second-factor').status,
      'missing',
    );
    assert.equal(result(facts({ accounts: [remote({ totpRequired: true })] }), 'identity.remote-second-factor').status, 'compliant');
    // Signing in only from inside the clinic, or a disabled account, asks nothing.
    assert.equal(
      result(facts({ accounts: [account({ signIns: { remote: 0, mostAddressesAtOnce: 1 } })] }), 'identity.remote-second-factor').status,
      'compliant',
    );
    assert.equal(result(facts({ accounts: [remote({ disabled: true })] }), 'identity.remote-second-factor').status, 'compliant');
  });

  test('a generic chart-reading account bound to nobody, and one signed in from several places at once', () => {
    const staff = Array.from({ length: 10 }, (_, i) => account({ username: `s${i}`, boundToPerson: true }));
    const generic = result(facts({ accounts: [...staff, account({ username: 'ward3', roles: ['nurse'], boundToPerson: false })] }), 'identity.shared-accounts');
    assert.equal(generic.status, 'partial');
    assert.equal(generic.figures.generic, 1);
    const shared = result(
      facts({
        accounts: [...staff, account({ username: 'desk', boundToPerson: true, signIns: { remote: 0, mostAddressesAtOnce: SHARED_ADDRESSES_AT_ONCE } })],
      }),
      'identity.shared-accounts',
    );
    assert.equal(shared.figures.shared, 1);
    assert.notEqual(shared.status, 'compliant');
    // An administrator bound to no practitioner is not a generic chart account; a desk and a phone at once is one person.
    const fine = [...staff, account({ username: 'it', roles: ['admin'], boundToPerson: false, signIns: { remote: 0, mostAddressesAtOnce: 2 } })];
    assert.equal(result(facts({ accounts: fine }), 'identity.shared-accounts').status, 'compliant');
    const lots = Array.from({ length: 4 }, (_, i) => account({ username: `g${i}`, boundToPerson: false }));
    assert.equal(result(facts({ accounts: [...staff, ...lots] }), 'identity.shared-accounts').status, 'missing');
  });

  test('a restore slower than the recovery-time objective is missing; over half of it is partial; no timed restore is missing', () => {
    const b = facts().backups;
    const at = (hours: number) => facts({ backups: { ...b, lastRestoreTest: { at: ago(5), ok: true, seconds: hours * 3600 } } });
    assert.equal(result(at(30), 'backup.restore-time').status, 'missing');
    assert.equal(result(at(18), 'backup.restore-time').status, 'partial');
    assert.equal(result(at(2), 'backup.restore-time').status, 'compliant');
    assert.equal(result(facts({ backups: { ...b, lastRestoreTest: { at: ago(5), ok: false, seconds: 60 } } }), 'backup.restore-time').status, 'missing');
    assert.equal(result(facts({ targets: { recoveryHours: 4, keyRotationDays: 365 } }), 'backup.restore-time').status, 'partial', '3 h of a 4 h objective');
  });

  test('a master key older than its rotation period, or a key file others can read', () => {
    const k = facts().keys;
    assert.equal(result(facts({ keys: { ...k, currentKeySince: ago(400) } }), 'keys.encryption-at-rest').status, 'partial');
    assert.equal(result(facts({ keys: { ...k, currentKeySince: ago(800) } }), 'keys.encryption-at-rest').status, 'missing');
    const exposed = result(facts({ keys: { ...k, keyFilePrivate: false } }), 'keys.encryption-at-rest');
    assert.equal(exposed.status, 'missing');
    assert.match(exposed.next!, /chmod 600/);
  });

  test('charts opened under break-the-glass beyond 1% of openings', () => {
    const at = (emergency: number) => result(facts({ chartAccess: { reads30Days: 10_000, emergencyReads30Days: emergency } }), 'access.bound-to-care');
    assert.equal(at(100).status, 'compliant');
    assert.equal(at(300).status, 'partial');
    assert.equal(at(900).status, 'missing');
    assert.match(at(300).text, /97% of 10000 chart openings/);
    assert.equal(result(facts({ chartAccess: { reads30Days: 0, emergencyReads30Days: 0 } }), 'access.bound-to-care').status, 'not-applicable');
  });

  test('Carewall behind its release feed: a minor release behind is partial, a major one missing; no feed is not measured', () => {
    const at = (software: PostureFacts['software']) => result(facts({ software }), 'software.current').status;
    assert.equal(at({ version: '1.4.2', feed: 'read', latest: '1.10.0' }), 'partial', '1.10 comes after 1.4');
    assert.equal(at({ version: '1.4.2', feed: 'read', latest: '2.0.0' }), 'missing');
    assert.equal(at({ version: '1.4.2', feed: 'read', latest: '1.4.2' }), 'compliant');
    assert.equal(at({ version: '1.4.2', feed: 'unreachable' }), 'partial');
    assert.equal(at({ version: '1.4.2', feed: 'none' }), 'not-applicable');
    assert.equal(olderRelease('1.9.3', '1.10.0'), true);
    assert.equal(olderRelease('1.10.0', '1.9.3'), false);
    assert.equal(olderRelease('2.0.0-rc.1', '2.0.0'), false, 'a pre-release of the same numbers is not behind');
  });
});
