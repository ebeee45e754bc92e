/**
 * After the pass: every detector reads the aggregates, compares each user with their own history
 * and their peer group (role × department, falling back to the role, then to everyone, when a
 * group is too small to say what is normal), and turns what stands out into alerts grouped by
 * (user, scenario, window).
 *
 * Thresholds are significance levels, not counts: a count is flagged when it is improbable under
 * the rate the peers show (Poisson tail below α), or when it lies beyond a robust fence (median +
 * K scaled MADs) of both the user's own days and the peers' days. For the account and bulk
 * detectors α is fixed (thresholds.ts); the pair detectors hand their candidates to the scan's
 * alert budget (budget.ts), which sets one level for all of them and keeps the rest as a watch list.
 *
 * The detectors: accountDetectors (terminated, harvesting, break-the-glass), credentials,
 * bulkDetectors (volume, mass export, enumeration), pairDetectors (personal ties, curiosity,
 * department mismatch, charts in the news, repeat offenders).
 */
import type { Alert } from '../catalog.js';
import { breakGlass, harvesting, terminated } from './accountDetectors.js';
import type { Accumulator } from './accumulate.js';
import { AlertSet } from './alerting.js';
import { AlertBudget, type BudgetOptions, type WatchItem } from './budget.js';
import { enumeration, massExport, volume } from './bulkDetectors.js';
import { credentials, credentialsWithoutAddress } from './credentials.js';
import { pairScenarios, repeatOffenders } from './pairDetectors.js';
import { PeerBaselines } from './peers.js';
import { DAY_MS, type ReferenceData } from './reference.js';

export { ALPHA_DAY, ALPHA_USER, FENCE_MADS } from './thresholds.js';

/** What every detector reads (the pass's aggregates, the clinic, the peers) and where it writes. */
export interface DetectionContext {
  readonly acc: Accumulator;
  readonly ref: ReferenceData;
  readonly peers: PeerBaselines;
  readonly alerts: AlertSet;
  readonly budget: AlertBudget;
}

export class Detection {
  /** After run(): the candidates the budget did not make alerts, most improbable first. */
  watch: WatchItem[] = [];

  constructor(
    private readonly acc: Accumulator,
    private readonly ref: ReferenceData,
    private readonly opts: BudgetOptions = {},
  ) {}

  run(): Alert[] {
    // User-days as the budget counts them: every user seen, over the whole period of the log.
    let users = 0;
    for (const s of this.acc.states) if (s) users++;
    const userDays = users * Math.max(1, Math.round((this.acc.lastT - this.acc.firstT) / DAY_MS));
    const ctx: DetectionContext = {
      acc: this.acc,
      ref: this.ref,
      peers: new PeerBaselines(this.acc, this.ref),
      alerts: new AlertSet(this.ref),
      budget: new AlertBudget(userDays, this.opts),
    };
    // Account-level and volume detectors first: what they cover is one incident, not many curiosities.
    for (const s of ctx.peers.states) {
      terminated(ctx, s);
      credentials(ctx, s);
      harvesting(ctx, s);
      enumeration(ctx, s);
      massExport(ctx, s);
      volume(ctx, s);
      breakGlass(ctx, s);
      credentialsWithoutAddress(ctx, s);
    }
    pairScenarios(ctx);
    ctx.budget.decide();
    this.watch = ctx.budget.watch;
    repeatOffenders(ctx);
    const alerts = ctx.alerts.alerts;
    alerts.sort((a, b) => (a.firstAccess < b.firstAccess ? -1 : a.firstAccess > b.firstAccess ? 1 : a.user < b.user ? -1 : 1));
    return alerts;
  }
}
