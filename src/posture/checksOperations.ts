/**
 * Operations checks: whether someone is watching (the guard, the insider monitor, the audit log),
 * whether staff are ready for phishing, whether access follows care, and whether equipment and
 * Carewall itself are kept current. HICP practices 1, 2, 3 (large), 5, 7, 8 and 9.
 */
import { days, type Check, type Finding } from './checkTypes.js';

/** A simulation campaign at least this often keeps the figures current. */
export const CAMPAIGN_DAYS = 365;
/** A full verification of the audit log at least this often. */
export const VERIFY_DAYS = 31;
/** Chart openings under an emergency grant above this share: access rules do not fit the care given. */
export const EMERGENCY_SHARE = 0.01;

/** Compares dotted release numbers (1.10.0 after 1.9.3); a pre-release tag after '-' is ignored. */
export function olderRelease(a: string, b: string): boolean {
  const parts = (v: string) =>
    v
      .split('-')[0]
      .split('.')
      .map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return false;
}

export const OPERATIONS_CHECKS: Check[] = [
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
    id: 'access.bound-to-care',
    title: 'Chart access follows care relationships',
    proves: `The share of chart openings in the last 30 days allowed by a care relationship or a role's routine rather than an emergency grant (compliant when emergencies are under ${EMERGENCY_SHARE * 100}%).`,
    cannot: 'Whether the care relationships themselves are genuine: a relationship recorded for no reason would open a chart as well.',
    run(f): Finding {
      const a = f.chartAccess;
      if (a.reads30Days === 0) return { status: 'not-applicable', text: 'No chart was opened in the last 30 days.', figures: { reads: 0 } };
      const emergency = a.emergencyReads30Days / a.reads30Days;
      const bound = Math.round((1 - emergency) * 1000) / 10;
      const status = emergency <= EMERGENCY_SHARE ? 'compliant' : emergency <= 5 * EMERGENCY_SHARE ? 'partial' : 'missing';
      return {
        status,
        text: `${bound}% of ${a.reads30Days} chart openings in 30 days followed a care relationship or role; ${a.emergencyReads30Days} were under break-the-glass.`,
        figures: { reads: a.reads30Days, emergencyReads: a.emergencyReads30Days, boundShare: bound },
        ...(status === 'compliant' ? {} : { next: 'Find which teams break the glass most and record their care relationships (Review queue, Access rules).' }),
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
    id: 'audit.verified',
    title: 'The audit log is verified end to end',
    proves: `Every record of the log was recomputed and every signed checkpoint checked within the last ${VERIFY_DAYS} days, and it held.`,
    cannot: 'Changes made after the last verification: those show at the next one.',
    run(f): Finding {
      const v = f.audit.lastVerification;
      const age = days(v?.at, f.now);
      const status = !v ? 'missing' : !v.ok ? 'missing' : age <= VERIFY_DAYS ? 'compliant' : 'partial';
      return {
        status,
        text: !v
          ? 'The audit log has never been verified end to end.'
          : v.ok
            ? `The last full verification, ${age} day(s) ago, held (limit ${VERIFY_DAYS}).`
            : `The last full verification, ${age} day(s) ago, FAILED: the log was changed.`,
        figures: { ageDays: Number.isFinite(age) ? age : 'never', limitDays: VERIFY_DAYS, held: v ? String(v.ok) : 'none' },
        ...(status === 'compliant'
          ? {}
          : {
              next:
                v && !v.ok
                  ? 'Treat it as an incident: find the first bad record (npx carewall audit verify) and the change behind it.'
                  : 'Verify the audit log: npx carewall audit verify, or Audit log, Verify.',
            }),
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
  {
    id: 'software.current',
    title: 'Carewall itself is up to date',
    proves: 'The running Carewall against the latest release named by the clinic’s release feed (carewall.json posture.releaseFeed).',
    cannot: 'The operating system and database underneath, which their own updates keep current; nor a release the feed does not list yet.',
    run(f): Finding {
      const s = f.software;
      if (s.feed === 'none') return { status: 'not-applicable', text: 'No release feed is configured.', figures: { version: s.version } };
      if (s.feed === 'unreachable' || !s.latest)
        return {
          status: 'partial',
          text: `Carewall ${s.version} runs; the release feed could not be read, so whether a newer release exists is unknown.`,
          figures: { version: s.version },
          next: 'Check the release feed’s address and that this server can reach it (carewall.json posture.releaseFeed).',
        };
      const behind = olderRelease(s.version, s.latest);
      const major = behind && s.version.split('.')[0] !== s.latest.split('.')[0];
      return {
        status: !behind ? 'compliant' : major ? 'missing' : 'partial',
        text: behind ? `Carewall ${s.version} runs; ${s.latest} is released.` : `Carewall ${s.version} is the latest release.`,
        figures: { version: s.version, latest: s.latest },
        ...(behind ? { next: 'Update Carewall (docs: upgrading) and restart each process.' } : {}),
      };
    },
  },
];
