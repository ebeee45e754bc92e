/**
 * Base rates of personal ties, learned from the hospital's own explained work. A tie between a
 * user and a patient (self, family, co-worker, neighbour, VIP) is evidence of misuse only to the
 * extent that it is rarer in what the user's unexplained work touches than in what their peers'
 * explained work touches: where staff often treat their neighbours, same street is weak evidence;
 * where a VIP's stay brings forty people of the department to the chart, a forty-first whom only
 * the department explains is not news, while one with no link at all still is.
 *
 * Counted once per (user, patient) pair, in two contexts: pairs with a direct link (care team,
 * encounter, appointment, order) and pairs explained only by the ward, department or role. The
 * rate for a candidate is taken from the context it is in (an idle weak pair against weak pairs,
 * an unexplained pair against all explained pairs), in the user's role × department, falling
 * back to the role, then to everyone, when a group is too small to say.
 */
import type { Scenario } from '../catalog.js';
import type { Pair } from './accumulate.js';
import type { Reason } from './explain.js';
import type { Patient, ReferenceData, User } from './reference.js';
import { relation } from './ties.js';

export const TIES = ['self', 'family', 'coworker', 'neighbour', 'vip'] as const;
export type Tie = (typeof TIES)[number];
/**
 * Ties as counted: a co-worker of the user's own department and one from elsewhere are counted
 * apart, because hospitals differ in whether staff are treated where they work.
 */
export const TIE_KEYS = ['self', 'family', 'coworker', 'coworker-own-department', 'neighbour', 'vip'] as const;
export type TieKey = (typeof TIE_KEYS)[number];

/** The key a tie is counted under. */
export function tieKey(ref: ReferenceData, u: User, p: Patient, tie: Tie): TieKey {
  if (tie !== 'coworker') return tie;
  for (const staff of ref.staffMatching(p, u.idx)) for (const o of ref.users[staff].orgs) if (u.orgs.has(o)) return 'coworker-own-department';
  return 'coworker';
}

/** How much the wider group's rate weighs in a group's, in explained pairs. */
export const PRIOR_PAIRS = 200;

interface Counts {
  pairs: number;
  ties: Record<TieKey, number>;
}
const empty = (): Counts => ({ pairs: 0, ties: { self: 0, family: 0, coworker: 0, 'coworker-own-department': 0, neighbour: 0, vip: 0 } });

export type Context = 'any' | 'weak';

export interface TieRate {
  rate: number;
  /** Explained pairs and pairs with the tie the rate is from, and whose they are: for evidence. */
  pairs: number;
  withTie: number;
  group: string;
}

const WEAK = new Set<Reason>(['ward', 'department', 'role']);
const STRONG_BIT = 1;
const WEAK_BIT = 2;

export class TieBaseRates {
  /** Per explained (user, patient) pair: which contexts it was counted in (bits). */
  private readonly seen = new Map<number, number>();
  private readonly byUser = new Map<number, { strong: Counts; weak: Counts; unexplained: Counts }>();
  private readonly cache = new Map<string, { any: Counts; weak: Counts; unexplained: Counts; users: number }>();

  constructor(private readonly ref: ReferenceData) {}

  /** One explained access (from the pass): counted once per pair and context. */
  explained(u: User, p: Patient, reason: Reason): void {
    const key = u.idx * 4_194_304 + p.idx;
    const bit = WEAK.has(reason) ? WEAK_BIT : STRONG_BIT;
    const had = this.seen.get(key) ?? 0;
    if (had & bit) return;
    this.seen.set(key, had | bit);
    let c = this.byUser.get(u.idx);
    if (!c) this.byUser.set(u.idx, (c = { strong: empty(), weak: empty(), unexplained: empty() }));
    const counts = bit === WEAK_BIT ? c.weak : c.strong;
    counts.pairs++;
    // Only patients who can have a tie at all are looked at closely: the cheap test first.
    if (!p.restricted && !u.householdPatients.has(p.idx) && !u.selfPatients.has(p.idx)) return;
    const tie = relation(this.ref, u, p)?.scenario;
    if (tie && isTie(tie)) counts.ties[tieKey(this.ref, u, p, tie)]++;
  }

  /**
   * Whether the log holds enough explained work to say how common a tie is: a small clinic's
   * first days, or a live window just opened, do not, and there a tie is flagged on its own.
   */
  learned(): boolean {
    const all = this.group('all', '');
    return all.any.pairs >= PRIOR_PAIRS;
  }

  /** The user's pairs explained only by the ward, department or role. */
  weakPairsOf(user: number): number {
    return this.byUser.get(user)?.weak.pairs ?? 0;
  }

  /** Sums of the users' counts for a group (users whose key is `key` at `level`). */
  /**
   * The other reference: ties among the unexplained pairs of the log (after the pass). Where
   * unlinked work goes to some patients more than explained work does (colleagues looking in on
   * colleagues), the peers' unexplained work shows it; a tie must be improbable under both.
   */
  learnUnexplained(pairs: Iterable<Pair>): void {
    for (const p of pairs) {
      if (p.unexplained === 0) continue;
      const u = this.ref.users[p.user];
      let c = this.byUser.get(u.idx);
      if (!c) this.byUser.set(u.idx, (c = { strong: empty(), weak: empty(), unexplained: empty() }));
      c.unexplained.pairs++;
      const patient = this.ref.patients[p.patient];
      if (!patient.restricted && !u.householdPatients.has(patient.idx) && !u.selfPatients.has(patient.idx)) continue;
      const tie = relation(this.ref, u, patient)?.scenario;
      if (tie && isTie(tie)) c.unexplained.ties[tieKey(this.ref, u, patient, tie)]++;
    }
    this.cache.clear();
    this.tiedUsers.clear();
  }

  /**
   * How many users other than `u` have the tie among their unexplained pairs, hospital-wide. The
   * unexplained reference is the log's own unlinked work, and that holds the incidents too: two
   * users looking up their own charts would each make the other's look ordinary. A habit of the
   * hospital (colleagues looking in on colleagues) shows in many users' work; a tie in fewer than
   * MIN_PEERS users' (the fewest that say what is normal, thresholds.ts) is a few people's doing,
   * and the tie is then tested against explained work alone.
   */
  unexplainedUsers(u: User, tie: TieKey): number {
    let all = this.tiedUsers.get(tie);
    if (all === undefined) {
      all = 0;
      for (const c of this.byUser.values()) if (c.unexplained.ties[tie] > 0) all++;
      this.tiedUsers.set(tie, all);
    }
    return all - ((this.byUser.get(u.idx)?.unexplained.ties[tie] ?? 0) > 0 ? 1 : 0);
  }

  /** Users with the tie among their unexplained pairs, per tie (learnt after the pass). */
  private readonly tiedUsers = new Map<TieKey, number>();

  private group(level: 'peer' | 'role' | 'all', key: string): { any: Counts; weak: Counts; unexplained: Counts; users: number } {
    const id = `${level}:${key}`;
    const hit = this.cache.get(id);
    if (hit) return hit;
    const any = empty();
    const weak = empty();
    const unexplained = empty();
    let users = 0;
    for (const [idx, c] of this.byUser) {
      const u = this.ref.users[idx];
      if (level === 'peer' && u.peerKey !== key) continue;
      if (level === 'role' && u.roleKey !== key) continue;
      users++;
      for (const part of [c.strong, c.weak]) {
        any.pairs += part.pairs;
        for (const t of TIE_KEYS) any.ties[t] += part.ties[t];
      }
      unexplained.pairs += c.unexplained.pairs;
      for (const t of TIE_KEYS) unexplained.ties[t] += c.unexplained.ties[t];
      weak.pairs += c.weak.pairs;
      for (const t of TIE_KEYS) weak.ties[t] += c.weak.ties[t];
    }
    const out = { any, weak, unexplained, users };
    this.cache.set(id, out);
    return out;
  }

  /**
   * How often the tie occurs among the explained pairs of the user's peers, in this context. A
   * small group says little about a rare tie, so its count is pooled with the next wider group's
   * rate, worth PRIOR_PAIRS pairs (empirical Bayes: role × department within the role within the
   * hospital); the hospital's own rate starts from half a pair (Jeffreys): rare, not impossible.
   */
  rate(u: User, tie: TieKey, context: Context | 'unexplained', prior?: number): TieRate {
    const levels: Array<['peer' | 'role' | 'all', string, string]> = [
      ['all', '', 'whole hospital'],
      ['role', u.roleKey, 'role'],
      ['peer', u.peerKey, 'role and department'],
    ];
    let out: TieRate | undefined;
    // The user's own pairs are left out: they are what is being judged, not the baseline.
    const own = this.byUser.get(u.idx);
    const part = (c: { strong: Counts; weak: Counts; unexplained: Counts }, f: (x: Counts) => number) =>
      context === 'weak' ? f(c.weak) : context === 'unexplained' ? f(c.unexplained) : f(c.weak) + f(c.strong);
    const ownPairs = own ? part(own, (x) => x.pairs) : 0;
    const ownTies = own ? part(own, (x) => x.ties[tie]) : 0;
    for (const [level, key, label] of levels) {
      const g = this.group(level, key);
      const whole = context === 'weak' ? g.weak : context === 'unexplained' ? g.unexplained : g.any;
      const c = { pairs: whole.pairs - ownPairs, ties: { ...whole.ties, [tie]: whole.ties[tie] - ownTies } };
      const n = c.ties[tie];
      // The hospital's own rate starts from `prior` (worth PRIOR_PAIRS pairs) when one is given, else from half a pair.
      if (!out)
        out =
          prior === undefined
            ? { rate: (n + 0.5) / (c.pairs + 1), pairs: c.pairs, withTie: n, group: label }
            : { rate: (n + PRIOR_PAIRS * prior) / (c.pairs + PRIOR_PAIRS), pairs: c.pairs, withTie: n, group: label };
      else if (c.pairs > 0) out = { rate: (n + PRIOR_PAIRS * out.rate) / (c.pairs + PRIOR_PAIRS), pairs: c.pairs, withTie: n, group: label };
    }
    return out!;
  }
}

export function isTie(s: Scenario): s is Tie {
  return (TIES as readonly string[]).includes(s);
}
