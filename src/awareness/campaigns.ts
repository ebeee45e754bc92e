/**
 * Campaigns: a group, several templates (one drawn per person), a sending window inside business
 * hours. Creating one fixes who gets which message and when (targets): a campaign can then be
 * explained afterwards, and sending is only working through the plan.
 */
import crypto from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { FhirError } from '../shared/index.js';
import { Rng } from '../util/index.js';
import type { Catalogue } from './catalogue.js';
import type { PhishTemplate } from './library/types.js';
import { groupMembers, type Person } from './people.js';
import { DEFAULT_HOURS, sendingTimes, windowProblem, type SendingWindow } from './schedule.js';

export interface CampaignInput {
  name: string;
  group: string;
  templates: string[];
  window: { start: string; end: string; from?: string; to?: string; days?: number[] };
  /** Show the template's imitation page on a click (its submission then leads to the lesson); otherwise the click leads to the lesson at once. */
  landingPage?: boolean;
  /** Everything but the sending: messages are written and recorded, none leaves. */
  dryRun?: boolean;
}

export interface CampaignPlan {
  window: SendingWindow;
  landingPage: boolean;
  dryRun: boolean;
}

export interface Campaign {
  id: string;
  name: string;
  groupId: string;
  groupName: string;
  templates: string[];
  plan: CampaignPlan;
  state: 'scheduled' | 'sending' | 'finished' | 'cancelled';
  createdBy: string;
  createdAt: string;
  targets: number;
}

/** A new target's token: 256 random bits, in the message's links; only its hash is kept in the clear. */
export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): Buffer {
  return crypto.createHash('sha256').update(token).digest();
}

/**
 * The hardest template a person may get: someone enrolled in the longer course gets only the
 * plainest lures until they pass it (a harder one would teach nothing but failure).
 */
export function hardestFor(person: Person): 1 | 2 | 3 {
  return person.courseEnrolledAt && !person.coursePassedAt ? 1 : 3;
}

/** One template per person, drawn from the campaign's, within what the person may get. */
export function drawTemplates(people: Person[], templates: PhishTemplate[], rng: Rng): Map<string, PhishTemplate> {
  const easiest = [...templates].sort((a, b) => a.difficulty - b.difficulty)[0];
  const out = new Map<string, PhishTemplate>();
  for (const p of people) {
    const allowed = templates.filter((t) => t.difficulty <= hardestFor(p));
    out.set(p.id, allowed.length > 0 ? rng.pick(allowed) : easiest);
  }
  return out;
}

export async function createCampaign(
  tx: Queryable,
  catalogue: Catalogue,
  input: CampaignInput,
  by: string,
  seal: (token: string) => Buffer,
): Promise<{ id: string; targets: number }> {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new FhirError(400, 'invalid', 'a campaign needs a name of at most 200 characters');
  const window: SendingWindow = { ...DEFAULT_HOURS, ...input.window };
  const problem = windowProblem(window);
  if (problem) throw new FhirError(400, 'invalid', problem);
  if (input.templates.length === 0 || input.templates.length > 20) throw new FhirError(400, 'invalid', 'a campaign uses between 1 and 20 templates');
  const templates: PhishTemplate[] = [];
  for (const id of new Set(input.templates)) {
    const t = await catalogue.template(id, tx);
    if (!t) throw new FhirError(400, 'invalid', 'one of the templates named does not exist');
    templates.push(t);
  }
  const group = await tx.query('select 1 from awareness_group where id = $1', [input.group]);
  if (group.rows.length === 0) throw new FhirError(400, 'invalid', 'the group named does not exist');
  const people = await groupMembers(tx, input.group);
  if (people.length === 0) throw new FhirError(400, 'invalid', 'the group has nobody active in it');
  const seed = crypto.randomInt(1, 2 ** 31);
  const times = sendingTimes(window, people, seed);
  const unreachable = people.filter((p) => !times.get(p.id)).length;
  if (unreachable > 0)
    throw new FhirError(400, 'invalid', `${unreachable} of the group's people have no business hours inside this window in their time zones: widen it`);
  const drawn = drawTemplates(people, templates, new Rng(seed ^ 0x5bd1e995));
  const id = crypto.randomUUID();
  const plan: CampaignPlan = { window, landingPage: input.landingPage ?? true, dryRun: input.dryRun ?? false };
  await tx.query(
    `insert into awareness_campaign (id, name, group_id, templates, plan, seed, state, created_by) values ($1, $2, $3, $4, $5, $6, 'scheduled', $7)`,
    [id, name, input.group, templates.map((t) => t.id), JSON.stringify(plan), seed, by],
  );
  for (const p of people) {
    const token = newToken();
    await tx.query(
      `insert into awareness_target (id, campaign_id, person_id, template_id, token_hash, token_sealed, send_at) values ($1, $2, $3, $4, $5, $6, $7)`,
      [crypto.randomUUID(), id, p.id, drawn.get(p.id)!.id, tokenHash(token), seal(token), times.get(p.id)],
    );
  }
  return { id, targets: people.length };
}

interface CampaignRow {
  id: string;
  name: string;
  group_id: string;
  group_name: string;
  templates: string[];
  plan: CampaignPlan;
  state: Campaign['state'];
  created_by: string;
  created_at: Date;
  targets: string;
}

const CAMPAIGN_SELECT = `
  select c.id, c.name, c.group_id, g.name as group_name, c.templates, c.plan, c.state, c.created_by, c.created_at,
    (select count(*) from awareness_target t where t.campaign_id = c.id) as targets
  from awareness_campaign c join awareness_group g on g.id = c.group_id`;

function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    name: r.name,
    groupId: r.group_id,
    groupName: r.group_name,
    templates: r.templates,
    plan: r.plan,
    state: r.state,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    targets: Number(r.targets),
  };
}

export async function listCampaigns(q: Queryable): Promise<Campaign[]> {
  const r = await q.query<CampaignRow>(`${CAMPAIGN_SELECT} order by c.created_at desc`);
  return r.rows.map(toCampaign);
}

export async function getCampaign(q: Queryable, id: string): Promise<Campaign | undefined> {
  const r = await q.query<CampaignRow>(`${CAMPAIGN_SELECT} where c.id = $1`, [id]);
  return r.rows[0] && toCampaign(r.rows[0]);
}

/** Stops what has not been sent; what was sent keeps its events and figures. */
export async function cancelCampaign(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`update awareness_campaign set state = 'cancelled' where id = $1 and state in ('scheduled', 'sending')`, [id]);
  return (r.rowCount ?? 0) > 0;
}
