/**
 * The posture scorecard's shapes (issue 27): the frameworks as data (HHS 405(d) HICP 2023, the HPH
 * Cybersecurity Performance Goals), what Carewall measures or someone attests for each item, and
 * the scores. `GET /api/posture` answers a `Scorecard` (README, contract).
 */

export type ClinicSize = 'small' | 'medium' | 'large';

/** One HICP sub-practice: the unit that is measured or attested. */
export interface FrameworkItem {
  /** Stable id, e.g. 'hicp-1.m.a' (practice 1, medium organisations, sub-practice A). */
  id: string;
  /** Our own wording of the item's title. */
  title: string;
  /** The sizes of organisation the item is written for. */
  sizes: ClinicSize[];
  /** Where in the public document it comes from, e.g. 'HICP 2023, Technical Volume 1, Practice 1.S.A'. */
  source: string;
  /** Ids of Carewall's measured checks that bear on it (empty: attested only). */
  checks: string[];
}

export interface Practice {
  /** 'hicp-1' … 'hicp-10', in the order of the HICP document. */
  id: string;
  title: string;
  source: string;
  items: FrameworkItem[];
}

export interface Threat {
  /** e.g. 'social-engineering', 'ransomware', 'equipment-data-loss', 'insider', 'medical-devices'. */
  id: string;
  title: string;
  source: string;
  /** Practice ids that mitigate it. */
  practices: string[];
}

export interface PerformanceGoal {
  /** e.g. 'hph-cpg-e1' (essential) or 'hph-cpg-x1' (enhanced). */
  id: string;
  kind: 'essential' | 'enhanced';
  title: string;
  source: string;
  /** Practice ids it maps to. */
  practices: string[];
}

export interface Framework {
  id: string;
  /** Edition, e.g. '2023'. */
  edition: string;
  title: string;
  practices: Practice[];
  threats: Threat[];
  goals: PerformanceGoal[];
}

export type ItemStatus = 'compliant' | 'partial' | 'missing' | 'not-applicable';

export interface Evidence {
  /** The check's id or 'attestation'. */
  kind: string;
  /** What was found, in words, with its figures. */
  text: string;
  /** When it was measured or attested. */
  at: string;
}

export interface ScoredItem {
  id: string;
  title: string;
  status: ItemStatus;
  source: 'measured' | 'attested';
  evidence: Evidence[];
  /** The next step that would improve it, in words, with where to do it. */
  next?: string;
}

export interface Scorecard {
  generatedAt: string;
  summary: { inPlace: number; total: number; text: string };
  threats: Array<{ id: string; title: string; score: number }>;
  /** The HPH Cybersecurity Performance Goals, scored through their practices (absent from snapshots taken before they were added). */
  goals?: Array<{ id: string; kind: 'essential' | 'enhanced'; title: string; score: number }>;
  practices: Array<{ id: string; title: string; score: number; items: ScoredItem[] }>;
}
