/**
 * Identity checks: who can sign in, with what, and whether each account is one person's. HICP
 * practice 3 (identity and access management) and the HPH goals on second factors, leavers and
 * unique credentials.
 */
import { active, days, type Check, type Finding } from './checkTypes.js';

/** Roles that can change who sees what, or see everyone: their accounts must have a second factor. */
const PRIVILEGED = ['admin', 'security-admin', 'privacy-officer', 'awareness-officer'];
/** Roles that open charts: their accesses are judged against one person's care relationships. */
const CHART_ROLES = ['physician', 'nurse', 'receptionist', 'billing', 'lab'];
/** An account unused this long is a door nobody watches. */
export const DORMANT_DAYS = 90;
/** Signed in from this many addresses at the same moment: more than one person's desk and phone. */
export const SHARED_ADDRESSES_AT_ONCE = 3;

export const IDENTITY_CHECKS: Check[] = [
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
    id: 'identity.remote-second-factor',
    title: 'Sign-ins from outside the clinic use a second factor',
    proves:
      'Every account that signed in from an address outside the clinic’s networks (carewall.json posture.clinicNetworks) in the last 30 days has a second factor required at sign-in.',
    cannot:
      'Remote access that does not pass through Carewall (a VPN or remote desktop to other systems), or addresses hidden by a proxy Carewall is not told to trust.',
    run(f): Finding {
      const remote = f.accounts.filter((a) => active(a, f.now) && (a.signIns?.remote ?? 0) > 0);
      const without = remote.filter((a) => !a.totpRequired);
      if (remote.length === 0)
        return { status: 'compliant', text: 'No account signed in from outside the clinic’s networks in the last 30 days.', figures: { remoteAccounts: 0 } };
      return {
        status: without.length === 0 ? 'compliant' : without.length / remote.length <= 0.1 ? 'partial' : 'missing',
        text:
          without.length === 0
            ? `All ${remote.length} account(s) that signed in from outside the clinic require a second factor.`
            : `${without.length} of ${remote.length} account(s) that signed in from outside the clinic in the last 30 days have no second factor.`,
        figures: { remoteAccounts: remote.length, withoutSecondFactor: without.length },
        ...(without.length ? { next: 'Require a second factor for those accounts (Staff accounts, or POST /api/users/{username}/second-factor).' } : {}),
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
    id: 'identity.shared-accounts',
    title: 'Every account that opens charts is one person’s',
    proves: `Active accounts with a chart-reading role that are bound to no person in the directory (generic accounts), and accounts signed in from ${SHARED_ADDRESSES_AT_ONCE} or more addresses at the same moment in the last 30 days (shared ones).`,
    cannot: 'A password passed between two people at one desk, one after the other.',
    run(f): Finding {
      const open = f.accounts.filter((a) => active(a, f.now));
      const generic = open.filter((a) => a.boundToPerson === false && a.roles.some((r) => CHART_ROLES.includes(r)));
      const shared = open.filter((a) => (a.signIns?.mostAddressesAtOnce ?? 0) >= SHARED_ADDRESSES_AT_ONCE);
      const found = new Set([...generic, ...shared].map((a) => a.username)).size;
      return {
        status: found === 0 ? 'compliant' : found <= Math.max(1, 0.02 * open.length) ? 'partial' : 'missing',
        text:
          found === 0
            ? `None of ${open.length} active accounts is generic or shared.`
            : `${generic.length} generic account(s) (a chart-reading role, bound to no person); ${shared.length} signed in from ${SHARED_ADDRESSES_AT_ONCE} or more places at once.`,
        figures: { active: open.length, generic: generic.length, shared: shared.length },
        ...(found
          ? { next: 'Give each person their own account bound to their practitioner record, and disable the generic or shared ones (Staff accounts).' }
          : {}),
      };
    },
  },
];
