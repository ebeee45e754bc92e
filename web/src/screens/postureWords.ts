/** The posture screens' words: statuses and sources said as people say them, never as codes. */
import type { PostureScorecard } from '../../../src/api/index.js';

type Item = PostureScorecard['practices'][number]['items'][number];

export const STATUS: Record<Item['status'], string> = {
  compliant: 'In place',
  partial: 'Partly',
  missing: 'Missing',
  'not-applicable': 'Not applicable',
};

export const SOURCE: Record<Item['source'], string> = { measured: 'measured', attested: 'attested' };

/**
 * "In place (attested)": the status and how it is known, together, as the evidence screen shows it.
 * An item no one has vouched for is missing because it needs an attestation, not "attested".
 */
export const statusWithSource = (i: Pick<Item, 'status' | 'source'>) =>
  i.status === 'missing' && i.source === 'attested' ? 'Missing (needs an attestation)' : `${STATUS[i.status]} (${SOURCE[i.source]})`;

export const pct = (share: number) => `${Math.round(share * 100)}%`;

/** The scoring's threshold (src/posture/scoring.ts IN_PLACE): a practice at 75% or more is in place. */
export const IN_PLACE = 0.75;
/** A practice's state; one whose every item is not applicable is said so (the server scores it 0, having nothing to average). */
export const practiceWords = (score: number, items: Array<Pick<Item, 'status'>>) =>
  items.length > 0 && items.every((i) => i.status === 'not-applicable')
    ? 'Not applicable'
    : score >= IN_PLACE
      ? 'In place'
      : score > 0
        ? 'Under way'
        : 'Not started';

/** An attestation's own statuses (it cannot attest "missing"), as the dialog offers them. */
export const ATTEST_CHOICES = [
  { value: 'compliant', label: 'In place: checked and working' },
  { value: 'partial', label: 'Partly: some of it is done' },
  { value: 'not-applicable', label: 'Not applicable to this clinic' },
] as const;

/** A review date, as the calendar day it was chosen for: stored as midnight UTC, so said in UTC. */
export const reviewDay = (iso: string) => new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
