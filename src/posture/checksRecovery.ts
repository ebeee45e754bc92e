/**
 * Recovery checks: whether the clinic could get its data back after ransomware or a wiper, and
 * whether what is stored is useless to a thief. HICP practice 4 (data protection and loss
 * prevention) and the HPH goal on strong encryption.
 */
import { days, type Check, type Finding } from './checkTypes.js';

/** A restore test older than this no longer says the backups restore. */
export const RESTORE_TEST_DAYS = 90;

const hours = (seconds: number) => Math.round((seconds / 3600) * 10) / 10;

export const RECOVERY_CHECKS: Check[] = [
  {
    id: 'backup.fresh',
    title: 'Backups are current',
    proves: 'The last successful backup into the encrypted, immutable repository is no older than twice the schedule.',
    cannot: 'That the repository is off site or that its storage keeps objects immutable: that is the repository’s own configuration.',
    run(f): Finding {
      if (!f.backups.setUp)
        return { status: 'missing', text: 'No backup repository is set up.', figures: {}, next: 'Set up backups: npx carewall backup init.' };
      const age = days(f.backups.lastSuccess, f.now);
      const limitDays = Math.max(1, (2 * f.backups.everyHours) / 24);
      return {
        status: age <= limitDays ? 'compliant' : 'missing',
        text: f.backups.lastSuccess ? `The last successful backup is ${age} day(s) old (limit ${limitDays}).` : 'No backup has succeeded yet.',
        figures: { ageDays: Number.isFinite(age) ? age : 'never', limitDays },
        ...(age > limitDays ? { next: 'Run a backup now (npx carewall backup run) and find why the schedule stopped.' } : {}),
      };
    },
  },

  {
    id: 'backup.restore-tested',
    title: 'A restore has been tested recently',
    proves: `A full restore into scratch passed its checks within the last ${RESTORE_TEST_DAYS} days (signed evidence in the repository).`,
    cannot: 'That the restore would be as fast on the day: the test measures this machine, now.',
    run(f): Finding {
      const t = f.backups.lastRestoreTest;
      const age = days(t?.at, f.now);
      const ok = t?.ok === true && age <= RESTORE_TEST_DAYS;
      return {
        status: ok ? 'compliant' : 'missing',
        text: !t
          ? 'No restore test has been run.'
          : t.ok
            ? `The last restore test passed ${age} day(s) ago (limit ${RESTORE_TEST_DAYS}).`
            : `The last restore test, ${age} day(s) ago, failed.`,
        figures: { ageDays: Number.isFinite(age) ? age : 'never', limitDays: RESTORE_TEST_DAYS, passed: t ? String(t.ok) : 'none' },
        ...(ok ? {} : { next: 'Run a restore test: npx carewall backup test --repository R --recovery-key-file F.' }),
      };
    },
  },
  {
    id: 'backup.restore-time',
    title: 'A full restore fits in the recovery-time objective',
    proves:
      'How long the last passing restore test took to bring the whole backup back into scratch, against the clinic’s recovery-time objective (carewall.json posture.recoveryTimeObjectiveHours).',
    cannot: 'The time to rebuild the machines themselves, or a restore over a slower link than the test’s.',
    run(f): Finding {
      const t = f.backups.lastRestoreTest;
      const limit = f.targets.recoveryHours;
      if (!t || !t.ok || t.seconds === undefined)
        return {
          status: 'missing',
          text: 'No passing restore test has measured how long a full restore takes.',
          figures: { objectiveHours: limit },
          next: 'Run a restore test: npx carewall backup test --repository R --recovery-key-file F.',
        };
      const took = hours(t.seconds);
      const status = t.seconds <= limit * 3600 * 0.5 ? 'compliant' : t.seconds <= limit * 3600 ? 'partial' : 'missing';
      return {
        status,
        text: `The last restore test took ${took} h against an objective of ${limit} h${status === 'partial' ? ' (more than half of it: little room for the rest of recovery)' : ''}.`,
        figures: { restoreHours: took, objectiveHours: limit },
        ...(status === 'compliant'
          ? {}
          : { next: 'Restore faster (a repository nearer the server, or a standby) or agree a longer objective with management (carewall.json posture).' }),
      };
    },
  },
  {
    id: 'keys.encryption-at-rest',
    title: 'Records are encrypted at rest under a protected, rotated key',
    proves:
      'Every record and account secret is stored encrypted under data keys wrapped by the master key (always, by design); this check measures where the master key lives, whether its file is private to Carewall, and how long the current key has been in use.',
    cannot: 'Who else can read the master key where it lives (the machine’s administrators, a copy of the environment, a backup of the data folder).',
    run(f): Finding {
      const k = f.keys;
      const age = days(k.currentKeySince, f.now);
      const limit = f.targets.keyRotationDays;
      const status = !k.keyFilePrivate ? 'missing' : age <= limit ? 'compliant' : age <= 2 * limit ? 'partial' : 'missing';
      return {
        status,
        text: `The master key comes from ${k.source === 'env' ? 'the environment' : k.keyFilePrivate ? 'a private key file' : 'a key file other users can read'}; the current key is ${age} day(s) old (rotate every ${limit}).`,
        figures: { keyAgeDays: age, rotationDays: limit, source: k.source, keyFilePrivate: String(k.keyFilePrivate) },
        ...(status === 'compliant'
          ? {}
          : {
              next: k.keyFilePrivate
                ? 'Rotate the master key: npx carewall keys rotate (runs while serving).'
                : 'Make the key file readable by Carewall alone (chmod 600), then rotate the master key: npx carewall keys rotate.',
            }),
      };
    },
  },
];
