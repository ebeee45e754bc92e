/**
 * The figures people act on: per campaign, over time, per department and per person. One outcome per
 * message (target) is worked out from its events, scanners' clicks set apart (automatic.ts); every
 * figure is a count or share of those outcomes, so the campaign, the trend, the departments and a
 * person's own page can never disagree.
 */
import type { BlockList } from 'node:net';
import type { Queryable } from '../db/index.js';
import { judgeClicks, machineAgent, type Request } from './automatic.js';

export interface Outcome {
  targetId: string;
  campaignId: string;
  personId: string;
  department: string;
  templateId: string;
  sentAt?: Date;
  sent: boolean;
  delivered: boolean;
  bounced: boolean;
  opened: boolean;
  /** A person's click (their browser ran the page). */
  clicked: boolean;
  /** Clicks judged automatic, and why. */
  scannerClicks: Array<{ at: string; reasons: string[] }>;
  submitted: boolean;
  reportedAt?: Date;
  trained: boolean;
}

export interface CampaignResults {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  clickedByScanners: number;
  submitted: number;
  reported: number;
  trained: number;
  /** Share (0–1) of the messages that reached people who clicked or submitted, scanners' clicks excluded. */
  phishProne: number;
  /** Share (0–1) of the messages that reached people who reported them. */
  reportRate: number;
  /** Median over the reported messages of the minutes from delivery to their first report; null when none was reported. */
  medianMinutesToFirstReport: number | null;
}

interface EventRow {
  target_id: string;
  campaign_id: string;
  person_id: string;
  department: string;
  template_id: string;
  sent_at: Date | null;
  n: string | null;
  kind: string | null;
  at: Date | null;
  facts: { ip?: string; ua?: string; click?: number } | null;
}

/** The outcome of every message matching `where` (a condition on t, the target, and p, the person). */
export async function outcomes(q: Queryable, ranges: BlockList, where: string, params: unknown[]): Promise<Outcome[]> {
  const r = await q.query<EventRow>(
    `select t.id as target_id, t.campaign_id, t.person_id, p.department, t.template_id, t.sent_at, e.n, e.kind, e.at, e.facts
     from awareness_target t join awareness_person p on p.id = t.person_id left join awareness_event e on e.target_id = t.id
     where ${where} order by t.id, e.n`,
    params,
  );
  const byTarget = new Map<string, EventRow[]>();
  for (const row of r.rows) {
    const list = byTarget.get(row.target_id) ?? [];
    list.push(row);
    byTarget.set(row.target_id, list);
  }
  return [...byTarget.values()].map((rows) => outcomeOf(rows, ranges));
}

function outcomeOf(rows: EventRow[], ranges: BlockList): Outcome {
  const first = rows[0];
  const events = rows.filter((e) => e.kind !== null);
  const has = (kind: string) => events.some((e) => e.kind === kind);
  const at = (kind: string) => events.find((e) => e.kind === kind)?.at ?? undefined;
  const requests: Request[] = events
    .filter((e) => ['opened', 'clicked', 'beacon', 'submitted'].includes(e.kind!))
    .map((e) => ({
      n: Number(e.n),
      kind: ({ opened: 'open', clicked: 'click', beacon: 'beacon', submitted: 'submit' } as const)[e.kind as 'opened'],
      at: e.at!,
      ...(e.facts?.ip ? { ip: e.facts.ip } : {}),
      ...(e.facts?.ua ? { userAgent: e.facts.ua } : {}),
      ...(e.facts?.click !== undefined ? { click: Number(e.facts.click) } : {}),
    }));
  const deliveredAt = at('delivered') ?? at('sent');
  const judged = judgeClicks(requests, deliveredAt, ranges);
  const clicks = requests.filter((r) => r.kind === 'click');
  const human = clicks.filter((c) => !judged.get(c.n)?.automatic);
  const submitted = requests.some((r) => r.kind === 'submit' && !machineAgent(r.userAgent));
  const humanOpen = requests.some((r) => r.kind === 'open' && !machineAgent(r.userAgent));
  return {
    targetId: first.target_id,
    campaignId: first.campaign_id,
    personId: first.person_id,
    department: first.department,
    templateId: first.template_id,
    ...(first.sent_at ? { sentAt: first.sent_at } : {}),
    sent: has('sent'),
    delivered: has('delivered'),
    bounced: has('bounced'),
    opened: humanOpen || human.length > 0 || submitted,
    clicked: human.length > 0,
    scannerClicks: clicks.filter((c) => judged.get(c.n)?.automatic).map((c) => ({ at: c.at.toISOString(), reasons: judged.get(c.n)!.reasons })),
    submitted,
    ...(at('reported') ? { reportedAt: at('reported') } : {}),
    trained: has('trained'),
  };
}

function share(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The figures of a set of outcomes (a campaign, a department, a month). */
export function summarise(list: Outcome[], deliveredAtOf: (o: Outcome) => Date | undefined = (o) => o.sentAt): CampaignResults {
  const count = (f: (o: Outcome) => boolean) => list.filter(f).length;
  const delivered = count((o) => o.delivered);
  // A dry run delivers nothing: its shares are over what was written.
  const base = delivered > 0 ? delivered : count((o) => o.sent);
  const minutes = list
    .filter((o) => o.reportedAt && deliveredAtOf(o))
    .map((o) => Math.max(0, (o.reportedAt!.getTime() - deliveredAtOf(o)!.getTime()) / 60_000));
  const m = median(minutes);
  return {
    sent: count((o) => o.sent),
    delivered,
    opened: count((o) => o.opened),
    clicked: count((o) => o.clicked),
    clickedByScanners: count((o) => o.scannerClicks.length > 0),
    submitted: count((o) => o.submitted),
    reported: count((o) => o.reportedAt !== undefined),
    trained: count((o) => o.trained),
    phishProne: share(
      count((o) => o.clicked || o.submitted),
      base,
    ),
    reportRate: share(
      count((o) => o.reportedAt !== undefined),
      base,
    ),
    medianMinutesToFirstReport: m === null ? null : Math.round(m * 10) / 10,
  };
}

/** Departments with fewer people than this are shown together, so no one is singled out by their department's figure. */
export const SMALLEST_DEPARTMENT = 3;

export function byDepartment(list: Outcome[]): Array<{ department: string; people: number } & CampaignResults> {
  const groups = new Map<string, Outcome[]>();
  for (const o of list) groups.set(o.department || 'No department', [...(groups.get(o.department || 'No department') ?? []), o]);
  const small: Outcome[] = [];
  const out: Array<{ department: string; people: number } & CampaignResults> = [];
  for (const [department, items] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const people = new Set(items.map((o) => o.personId)).size;
    if (people < SMALLEST_DEPARTMENT) small.push(...items);
    else out.push({ department, people, ...summarise(items) });
  }
  if (small.length > 0)
    out.push({
      department: `Smaller departments together (each under ${SMALLEST_DEPARTMENT} people)`,
      people: new Set(small.map((o) => o.personId)).size,
      ...summarise(small),
    });
  return out;
}

/**
 * CSV with a header row; every field quoted, quotes doubled (RFC 4180). A text starting with = + - @
 * gets a leading apostrophe: a spreadsheet would otherwise run a department's name as a formula.
 */
export function toCsv(rows: Array<Record<string, string | number | null>>): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]);
  const cell = (v: string | number | null) => {
    const text = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v ?? '');
    return `"${text.replace(/"/g, '""')}"`;
  };
  return [columns.map(cell).join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
