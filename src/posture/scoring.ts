/**
 * From findings to scores. An item is measured when checks bear on it (its status the worst of
 * theirs, partial when they disagree), attested when a named owner vouches for it and the
 * attestation has not expired, and missing otherwise: nothing counts as in place by default.
 * A practice's score is the mean over its applicable items (compliant 1, partial ½, missing 0); a
 * threat's, the mean of the practices that mitigate it. A practice is "in place" at 0.75 or more:
 * most of its items done, none of it left to chance.
 */
import type { CheckResult } from './checks.js';
import type { ClinicSize, Evidence, Framework, ItemStatus, Scorecard, ScoredItem } from './types.js';

export interface Attestation {
  item: string;
  status: Exclude<ItemStatus, 'missing'>;
  owner: string;
  note: string;
  attestedAt: string;
  /** After this the attestation counts as missing, until renewed. */
  expiresAt: string;
  /** SHA-256 of the evidence file, when one was given. */
  evidenceSha256?: string;
}

export const IN_PLACE = 0.75;
const VALUE: Record<Exclude<ItemStatus, 'not-applicable'>, number> = { compliant: 1, partial: 0.5, missing: 0 };

/** The status of several findings together: all alike is that; compliant with anything less is partial; not-applicable is left out. */
export function combine(statuses: ItemStatus[]): ItemStatus {
  const applicable = statuses.filter((s) => s !== 'not-applicable');
  if (applicable.length === 0) return 'not-applicable';
  if (applicable.every((s) => s === 'compliant')) return 'compliant';
  if (applicable.every((s) => s === 'missing')) return 'missing';
  return 'partial';
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000;
}

export function score(opts: {
  framework: Framework;
  size: ClinicSize;
  findings: CheckResult[];
  /** The checks that bear on each item, by item id. */
  itemChecks: Record<string, string[]>;
  attestations: Attestation[];
  now: Date;
}): Scorecard {
  const { framework, size, findings, itemChecks, now } = opts;
  const byCheck = new Map(findings.map((f) => [f.id, f]));
  // As things stood at `now`: an attestation made later did not exist yet (a snapshot of a past day).
  const made = opts.attestations.filter((a) => Date.parse(a.attestedAt) <= now.getTime());
  const attested = new Map(made.filter((a) => Date.parse(a.expiresAt) > now.getTime()).map((a) => [a.item, a]));
  const expired = new Map(made.filter((a) => Date.parse(a.expiresAt) <= now.getTime()).map((a) => [a.item, a]));
  const practices = framework.practices.map((p) => {
    const items: ScoredItem[] = p.items
      .filter((i) => i.sizes.includes(size))
      .map((i) => {
        const checks = [...new Set([...i.checks, ...(itemChecks[i.id] ?? [])])].map((c) => byCheck.get(c)).filter((c): c is CheckResult => c !== undefined);
        // A check that does not apply here (no file share to watch) says nothing of the item, which
        // is wider than the check: the item is then the owner's to attest, as if nothing measured it.
        if (checks.some((c) => c.status !== 'not-applicable')) {
          const status = combine(checks.map((c) => c.status));
          const evidence: Evidence[] = checks.map((c) => ({ kind: c.id, text: `${c.text} (${c.proves} It cannot show: ${c.cannot})`, at: now.toISOString() }));
          const next = checks.find((c) => c.next && c.status !== 'compliant')?.next;
          return { id: i.id, title: i.title, status, source: 'measured' as const, evidence, ...(next ? { next } : {}) };
        }
        const a = attested.get(i.id);
        if (a) {
          return {
            id: i.id,
            title: i.title,
            status: a.status,
            source: 'attested' as const,
            evidence: [
              {
                kind: 'attestation',
                text: `${a.owner}: ${a.note}${a.evidenceSha256 ? ` (evidence file sha256 ${a.evidenceSha256.slice(0, 12)}…)` : ''}; review by ${a.expiresAt.slice(0, 10)}`,
                at: a.attestedAt,
              },
            ],
          };
        }
        const old = expired.get(i.id);
        return {
          id: i.id,
          title: i.title,
          status: 'missing' as const,
          source: 'attested' as const,
          evidence: old ? [{ kind: 'attestation', text: `${old.owner}'s attestation expired on ${old.expiresAt.slice(0, 10)}`, at: old.attestedAt }] : [],
          next: old
            ? 'Review and renew the attestation (Posture, attestations).'
            : 'Not measured by Carewall: its owner attests it, with evidence (Posture, attestations).',
        };
      });
    const applicable = items.filter((i) => i.status !== 'not-applicable');
    // A practice none of whose items applies to this clinic scores 1 (nothing is left to do) and is
    // left out of the count and of the threats' means.
    return {
      id: p.id,
      title: p.title,
      score: applicable.length ? mean(applicable.map((i) => VALUE[i.status as keyof typeof VALUE])) : 1,
      items,
      applies: applicable.length > 0,
    };
  });
  const applying = practices.filter((p) => p.applies);
  const scoreOf = new Map(applying.map((p) => [p.id, p.score]));
  const threats = framework.threats.map((t) => ({
    id: t.id,
    title: t.title,
    score: mean(t.practices.filter((id) => scoreOf.has(id)).map((id) => scoreOf.get(id)!)),
  }));
  // The HPH performance goals, each through the practices it maps to (the mapping is Carewall's, said in the data).
  const goals = framework.goals.map((g) => ({
    id: g.id,
    kind: g.kind,
    title: g.title,
    score: mean(g.practices.filter((id) => scoreOf.has(id)).map((id) => scoreOf.get(id)!)),
  }));
  const inPlace = applying.filter((p) => p.score >= IN_PLACE).length;
  const covered = threats.map((t) => `${t.title.toLowerCase()} ${Math.round(t.score * 100)}%`).join(', ');
  return {
    generatedAt: now.toISOString(),
    summary: {
      inPlace,
      total: applying.length,
      text: `${inPlace} of ${applying.length} practices in place; the threats are covered as follows: ${covered}.`,
    },
    threats,
    goals,
    practices: practices.map(({ applies: _applies, ...p }) => p),
  };
}

/** The next steps, most threat reduction first: missing before partial, then by how many threats the practice mitigates. */
export function nextSteps(
  card: Scorecard,
  framework: Framework,
  limit = 10,
): Array<{ item: string; title: string; next: string; practice: string; practiceId: string }> {
  const mitigates = (practice: string) => framework.threats.filter((t) => t.practices.includes(practice)).length;
  return card.practices
    .flatMap((p) => p.items.filter((i) => i.next && i.status !== 'compliant' && i.status !== 'not-applicable').map((i) => ({ i, p })))
    .sort((a, b) => VALUE[a.i.status as keyof typeof VALUE] - VALUE[b.i.status as keyof typeof VALUE] || mitigates(b.p.id) - mitigates(a.p.id))
    .slice(0, limit)
    .map(({ i, p }) => ({ item: i.id, title: i.title, next: i.next!, practice: p.title, practiceId: p.id }));
}
