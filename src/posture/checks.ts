/**
 * What Carewall measures of the clinic's practices, from its own systems: each check a name, a
 * threshold, the figures behind its finding, and plainly what it proves and what it cannot. Checks
 * are pure functions of `PostureFacts`, which the service gathers from the other capabilities
 * through their public surfaces (runtime.ts wires them): a test builds the situation a check
 * detects, and the one it accepts, without a whole clinic. Grouped by theme in checksIdentity.ts,
 * checksRecovery.ts and checksOperations.ts.
 */
import type { Check, CheckResult, PostureFacts } from './checkTypes.js';
import { IDENTITY_CHECKS } from './checksIdentity.js';
import { OPERATIONS_CHECKS } from './checksOperations.js';
import { RECOVERY_CHECKS } from './checksRecovery.js';

export type { AccountFact, Check, CheckResult, Finding, PostureFacts } from './checkTypes.js';
export { DORMANT_DAYS, SHARED_ADDRESSES_AT_ONCE } from './checksIdentity.js';
export { RESTORE_TEST_DAYS } from './checksRecovery.js';
export { CAMPAIGN_DAYS, EMERGENCY_SHARE, VERIFY_DAYS, olderRelease } from './checksOperations.js';

export const CHECKS: Check[] = [...IDENTITY_CHECKS, ...RECOVERY_CHECKS, ...OPERATIONS_CHECKS];

export function runChecks(f: PostureFacts): CheckResult[] {
  return CHECKS.map((c) => ({ id: c.id, title: c.title, proves: c.proves, cannot: c.cannot, ...c.run(f) }));
}
