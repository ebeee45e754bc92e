/**
 * What Carewall measures of the clinic's practices, from its own systems: each check a name, a
 * threshold, the figures behind its finding, and plainly what it proves and what it cannot. Checks
 * are pure functions of `PostureFacts`, which the service gathers from the other capabilities
 * through their public surfaces (runtime.ts wires them): a test builds the situation a check
 * detects, and the one it accepts, without a whole clinic.
 */
import type { ItemStatus } from './types.js';

export interface AccountFact {
  username: string;
  roles: string[];
  totpRequired: boolean;
  disabled: boolean;
  lastLoginAt?: string;
  validUntil?: string;
  createdAt: string;
  /** false when the account's practitioner is no longer active (staff who left); undefined when unknown. */
  practitionerActive?: boolean;
}

export interface PostureFacts {
  now: Date;
  accounts: AccountFact[];
  backups: { setUp: boolean; everyHours: number; lastSuccess?: string; lastRestoreTest?: { at: string; ok: boolean } };
  guard: { enabled: boolean; watching: boolean; shares: number; configuredShares: number; decoys: boolean };
  awareness: { lastCampaign?: { name: string; sentFrom: string; delivered: number; phishProne: number; reportRate: number; trainedShare: number } };
  /** Break-the-glass grants: how many in the last 90 days, how many still unreviewed after a week. */
  breakGlass: { last90Days: number; unreviewedOverWeek: number };
  /** Insider-monitor cases: open ones and the age in days of the oldest. */
  insiderCases: { open: number; oldestOpenDays: number };
  /** The audit log: outside witnesses configured, and how often checkpoints are signed (0: only on demand). */
  audit: { witnesses: number; checkpointSeconds: number };
  /** Equipment: devices, those with open advisories (life-critical among them), those that never reported. */
  equipment: { devices: number; withOpenAdvisories: number; lifeCriticalWithOpenAdvisories: number; neverReported: number };
}

export interface CheckResult {
  id: string;
  title: string;
  status: ItemStatus;
  /** The finding in words, with its figures. */
  text: string;
  figures: Record<string, number | string>;
  /** What the check shows, and what it cannot (said with every finding). */
  proves: string;
  cannot: string;
  /** The next step, when not compliant: what to do and where. */
  next?: string;
}

/** What a check found (the service adds its id, title and what it proves and cannot). */
export type Finding = Omit<CheckResult, 'id' | 'title' | 'proves' | 'cannot'>;

export interface Check {
  id: string;
  title: string;
  proves: string;
  cannot: string;
  run(f: PostureFacts): Finding;
}

/** Roles that can change who sees what, or see everyone: their accounts must have a second factor. */
const PRIVILEGED = ['admin', 'security-admin', 'privacy-officer', 'awareness-officer'];
const DAY = 86_400_000;
/** An account unused this long is a door nobody watches. */
export const DORMANT_DAYS = 90;
/** A restore test older than this no longer says the backups restore. */
export const RESTORE_TEST_DAYS = 90;
/** A simulation campaign at least this often keeps the figures current. */
export const CAMPAIGN_DAYS = 365;

const days = (from: string | undefined, now: Date) => (from ? Math.floor((now.getTime() - Date.parse(from)) / DAY) : Infinity);
const active = (a: AccountFact, now: Date) => !a.disabled && !(a.validUntil && Date.parse(a.validUntil) <= now.getTime());

export const CHECKS: Check[] = [
  {
    id: 'identity.privileged-second-factor',
    title: 'Privileged accounts use a second factor',
    proves: 'Every active account with an administrative, security, privacy or awareness role has a second factor required at sign-in.',
    cannot: 'Whether the second factor lives on a device apart from the password, or whether staff share it.',
    run(f): Finding {
      const privileged = f.accounts.filter((a) => active(a, f.now) && a.roles.some((r) => PRIVILEGED.includes(r)));
      const without = privileged.filter((a) => !a.totpRequired);
      if (privileged.length === 0) return { status: 'not-applicable', text: 'No active privileged account.', figures: { privileged: 0 } };
      return {
        status: without.length === 0 ? 'compliant' : 'partial',
        text:
          without.length === 0
            ? `All ${privileged.length} privileged accounts require a second factor.`
            : `${without.length} of ${privileged.length} privileged accounts do not require a second factor.`,
        figures: { privileged: privileged.length, withoutSecondFactor: without.length },
        ...(without.length
          ? { next: 'Reset their second factor (Staff accounts, or POST /api/users/{username}/second-factor) so that they enrol at next sign-in.' }
          : {}),
      };
    },
  },
  {
    id: 'identity.departed-staff',
    title: 'Accounts of staff who left are disabled',
    proves: 'No account is active whose practitioner record is no longer active or whose end date has passed without the account being disabled.',
    cannot: 'Staff who left but whose practitioner record nobody updated: the roster is only as current as the directory.',
    run(f): Finding {
      const left = f.accounts.filter((a) => !a.disabled && (a.practitionerActive === false || (a.validUntil && Date.parse(a.validUntil) <= f.now.getTime())));
      const stillOpen = left.filter((a) => a.practitionerActive === false);
      const expiredNotDisabled = left.length - stillOpen.length;
      return {
        status: stillOpen.length > 0 ? 'missing' : expiredNotDisabled > 0 ? 'partial' : 'compliant',
        text:
          left.length === 0
            ? 'No active account belongs to someone who left.'
            : `${stillOpen.length} active account(s) of staff whose practitioner record is inactive; ${expiredNotDisabled} past their end date and not yet disabled (they cannot sign in).`,
        figures: { activeOfDeparted: stillOpen.length, expiredNotDisabled },
        ...(left.length ? { next: 'Disable those accounts (Staff accounts, or DELETE /api/users/{username}).' } : {}),
      };
    },
  },
  {
    id: 'identity.dormant-accounts',
    title: `No account unused for ${DORMANT_DAYS} days stays open`,
    proves: `How many active accounts have not signed in for ${DORMANT_DAYS} days (or never, ${DORMANT_DAYS} days after creation).`,
    cannot: 'Whether a rarely used account is still needed: someone must decide.',
    run(f): Finding {
      const open = f.accounts.filter((a) => active(a, f.now));
      const dormant = open.filter((a) => days(a.lastLoginAt ?? a.createdAt, f.now) >= DORMANT_DAYS);
      const share = open.length ? dormant.length / open.length : 0;
      return {
        status: dormant.length === 0 ? 'compliant' : share <= 0.05 ? 'partial' : 'missing',
        text: `${dormant.length} of ${open.length} active accounts unused for ${DORMANT_DAYS} days or more.`,
        figures: { active: open.length, dormant: dormant.length },
        ...(dormant.length ? { next: 'Review the unused accounts and disable those no longer needed (Staff accounts).' } : {}),
      };
    },
  },
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
    id: 'guard.watching',
    title: 'The ransomware guard watches every share',
    proves: 'The guard is on and watching each configured file share, with decoy files in place.',
    cannot: 'Computers and shares Carewall has not been told about.',
    run(f): Finding {
      const g = f.guard;
      if (g.configuredShares === 0) return { status: 'not-applicable', text: 'No file share is configured for Carewall to watch.', figures: { shares: 0 } };
      const all = g.enabled && g.watching && g.shares >= g.configuredShares;
      return {
        status: all && g.decoys ? 'compliant' : all || (g.watching && g.shares > 0) ? 'partial' : 'missing',
        text: `${g.watching ? g.shares : 0} of ${g.configuredShares} shares watched; decoys ${g.decoys ? 'in place' : 'off'}.`,
        figures: { watched: g.watching ? g.shares : 0, configured: g.configuredShares, decoys: String(g.decoys) },
        ...(all && g.decoys ? {} : { next: 'Watch every share with decoys: carewall.json "guard": {"decoys": true}, and restart.' }),
      };
    },
  },
  {
    id: 'awareness.simulations',
    title: 'Staff are tested and trained against phishing',
    proves: `A simulated phishing campaign reached staff within the last ${CAMPAIGN_DAYS} days; its phish-prone share (scanner clicks excluded) and reporting rate.`,
    cannot: 'How staff treat real attacks that look unlike the simulations.',
    run(f): Finding {
      const c = f.awareness.lastCampaign;
      const age = days(c?.sentFrom, f.now);
      if (!c || age > CAMPAIGN_DAYS || c.delivered === 0)
        return {
          status: 'missing',
          text: `No phishing simulation in the last ${CAMPAIGN_DAYS} days.`,
          figures: {},
          next: 'Start a campaign (Phishing campaigns).',
        };
      const pct = (x: number) => `${Math.round(x * 100)}%`;
      const good = c.phishProne <= 0.05 && c.reportRate >= 0.5;
      return {
        status: good ? 'compliant' : c.phishProne <= 0.2 ? 'partial' : 'missing',
        text: `The last campaign (${c.name}): ${pct(c.phishProne)} phish-prone, ${pct(c.reportRate)} reported it, ${pct(c.trainedShare)} passed the lesson.`,
        figures: { phishProne: c.phishProne, reportRate: c.reportRate, trainedShare: c.trainedShare, ageDays: age },
        ...(good ? {} : { next: 'Keep a steady rhythm of campaigns and promote the report button (Phishing campaigns, Awareness results).' }),
      };
    },
  },
  {
    id: 'access.break-glass-reviewed',
    title: 'Every break-the-glass access is reviewed within a week',
    proves: 'How many emergency accesses the privacy officers have not yet reviewed a week after they began.',
    cannot: 'Whether the reviews were careful: only that they were done.',
    run(f): Finding {
      const b = f.breakGlass;
      return {
        status: b.unreviewedOverWeek === 0 ? 'compliant' : b.unreviewedOverWeek <= 3 ? 'partial' : 'missing',
        text: `${b.last90Days} emergency access(es) in 90 days; ${b.unreviewedOverWeek} still unreviewed after a week.`,
        figures: { last90Days: b.last90Days, unreviewedOverWeek: b.unreviewedOverWeek },
        ...(b.unreviewedOverWeek ? { next: 'Review the open emergency accesses (Review queue).' } : {}),
      };
    },
  },
  {
    id: 'monitor.cases-worked',
    title: 'Insider-misuse cases are worked within 30 days',
    proves: 'How many misuse cases are open, and how long the oldest has waited.',
    cannot: 'Misuse the monitor does not detect.',
    run(f): Finding {
      const c = f.insiderCases;
      return {
        status: c.open === 0 || c.oldestOpenDays <= 30 ? 'compliant' : c.oldestOpenDays <= 60 ? 'partial' : 'missing',
        text: c.open === 0 ? 'No insider-misuse case is open.' : `${c.open} case(s) open; the oldest for ${c.oldestOpenDays} day(s).`,
        figures: { open: c.open, oldestOpenDays: c.oldestOpenDays },
        ...(c.open && c.oldestOpenDays > 30 ? { next: 'Work the oldest misuse cases (Misuse cases).' } : {}),
      };
    },
  },
  {
    id: 'audit.witnessed',
    title: 'The audit log is signed regularly and witnessed outside the clinic',
    proves: 'Checkpoints of the tamper-evident log are signed on a schedule and sent to outside witnesses, so even an administrator cannot rewrite it unseen.',
    cannot: 'That the witnesses are independent of whoever runs this server.',
    run(f): Finding {
      const a = f.audit;
      const scheduled = a.checkpointSeconds > 0;
      return {
        status: scheduled && a.witnesses > 0 ? 'compliant' : scheduled ? 'partial' : 'missing',
        text: `${scheduled ? `Checkpoints every ${a.checkpointSeconds} s` : 'Checkpoints only on demand'}; ${a.witnesses} outside witness(es).`,
        figures: { witnesses: a.witnesses, checkpointSeconds: a.checkpointSeconds },
        ...(scheduled && a.witnesses > 0 ? {} : { next: 'Name an outside witness: carewall.json "audit": {"witnesses": ["https://…"]}.' }),
      };
    },
  },
  {
    id: 'equipment.advisories',
    title: 'Connected equipment is known, reporting, and free of open advisories',
    proves: 'The inventory’s devices that have open security advisories (life-critical ones apart) and those that never reported their software.',
    cannot: 'Devices missing from the inventory.',
    run(f): Finding {
      const e = f.equipment;
      if (e.devices === 0)
        return {
          status: 'missing',
          text: 'No connected equipment is in the inventory.',
          figures: { devices: 0 },
          next: 'Import the equipment inventory (Equipment).',
        };
      const status = e.lifeCriticalWithOpenAdvisories > 0 ? 'missing' : e.withOpenAdvisories > 0 || e.neverReported > 0 ? 'partial' : 'compliant';
      return {
        status,
        text: `${e.devices} device(s); ${e.withOpenAdvisories} with open advisories (${e.lifeCriticalWithOpenAdvisories} life-critical); ${e.neverReported} never reported.`,
        figures: { ...e },
        ...(status === 'compliant' ? {} : { next: 'Decide on the open advisories and roll out the fixing releases (Equipment, Rollouts).' }),
      };
    },
  },
];

export function runChecks(f: PostureFacts): CheckResult[] {
  return CHECKS.map((c) => ({ id: c.id, title: c.title, proves: c.proves, cannot: c.cannot, ...c.run(f) }));
}
