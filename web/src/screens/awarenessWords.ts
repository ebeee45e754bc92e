/**
 * Staff awareness in words: the screens show states, difficulties, verdicts and what a person did
 * as sentences, never the server's codes.
 */
import type { AwarenessCampaigns, AwarenessResults } from '../../../src/api/index.js';

export const CAMPAIGN_STATE: Record<AwarenessCampaigns[number]['state'], string> = {
  scheduled: 'Scheduled',
  sending: 'Sending',
  finished: 'Finished',
  cancelled: 'Cancelled',
};

export const DIFFICULTY: Record<1 | 2 | 3, string> = { 1: 'plain', 2: 'careful reader', 3: 'trained eye' };

export const VERDICT: Record<string, string> = {
  phishing: 'Phishing',
  suspicious: 'Suspicious: needs a closer look',
  clean: 'Looks harmless',
};
export const verdictWords = (v: string) => VERDICT[v] ?? v;

export const OUTCOME: Record<string, string> = {
  phishing: 'Confirmed phishing',
  harmless: 'Harmless',
  spam: 'Spam',
};
export const outcomeWords = (o?: string) => (o ? (OUTCOME[o] ?? o) : 'Not decided yet');

/** A share (0–1) as a whole percentage. */
export const pct = (share: number) => `${Math.round(share * 100)}%`;

/** What one person did with one message, most telling first. */
export function didWhat(p: {
  sentAt: string | null;
  delivered: boolean;
  opened: boolean;
  clicked: boolean;
  submitted: boolean;
  reported: boolean;
  trained: boolean;
}) {
  const parts: string[] = [];
  if (!p.sentAt) return 'Not sent yet';
  if (p.reported) parts.push('reported it');
  if (p.submitted) parts.push('typed something into the page');
  else if (p.clicked) parts.push('opened the link');
  else if (p.opened) parts.push('opened the message');
  if (p.trained) parts.push('passed the lesson');
  if (parts.length === 0) return p.delivered ? 'Received it, nothing more' : 'Sent, not delivered';
  const s = parts.join(', then ');
  return s[0].toUpperCase() + s.slice(1);
}

/** The figures of a campaign as sentences (a dry run writes its messages without delivering them). */
export function figureSentences(r: AwarenessResults, dryRun: boolean): string[] {
  if (r.sent === 0) return ['Nothing has been sent yet.'];
  const base =
    r.delivered > 0
      ? `${r.delivered} of ${r.sent} messages delivered`
      : dryRun
        ? `${r.sent} messages written (dry run: none delivered)`
        : `${r.sent} messages sent, none delivered yet`;
  return [
    base,
    `${pct(r.phishProne)} clicked or typed something (scanner clicks excluded)`,
    `${pct(r.reportRate)} reported it`,
    r.medianMinutesToFirstReport === null ? 'Nobody has reported it yet' : `Median ${Math.round(r.medianMinutesToFirstReport)} minutes to the first report`,
    `${r.clickedByScanners} link visit${r.clickedByScanners === 1 ? '' : 's'} by mail scanners set apart`,
    `${people(r.trained)} passed the lesson afterwards`,
  ];
}

/** "1 person", "3 people". */
export const people = (n: number) => `${n} ${n === 1 ? 'person' : 'people'}`;

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
