/**
 * Staff awareness (issue 26), the capability's one entrance: who may do what, and the audit record
 * of every step. Individual results are personal data: only the awareness officer sees names;
 * management (admin, security admin) sees campaigns and departments; each member of staff sees
 * their own history. Every step goes to the tamper-evident log, without message content or typed data.
 */
import type { BlockList } from 'node:net';
import type { Settings } from '../config.js';
import type { Database } from '../db/index.js';
import type { Logger } from '../log.js';
import { FhirError, type EquipmentAudit, type Who } from '../shared/index.js';
import { scannerRanges } from './automatic.js';
import { cancelCampaign, createCampaign, getCampaign, listCampaigns, type Campaign, type CampaignInput } from './campaigns.js';
import { Catalogue } from './catalogue.js';
import { byDepartment, outcomes, summarise, toCsv, type CampaignResults, type Outcome } from './figures.js';
import { pollReportMailbox } from './mailbox.js';
import { searchMailboxes, type SearchFilter } from './mailboxSearch.js';
import {
  createGroup,
  listGroups,
  listPeople,
  personByEmail,
  personByUsername,
  readStaffCsv,
  upsertPeople,
  type GroupInput,
  type StaffEntry,
} from './people.js';
import { clusters, decide, intake, reportsOf, searchReports, type IntakeDeps, type ReportAnswer, type ReportOutcome } from './reports.js';
import { sendDue, smtpTransport, type MailTransport } from './sending.js';
import { awarenessSettings, type AwarenessSettings } from './settings.js';
import { Tracking } from './tracking.js';

export type Capability = 'manage' | 'figures' | 'triage';

/** Who may do what. Decided here, by role, and recorded when refused. */
const ROLES_FOR: Record<Capability, readonly string[]> = {
  manage: ['awareness-officer'],
  figures: ['awareness-officer', 'admin', 'security-admin'],
  triage: ['awareness-officer', 'security-admin'],
};

export interface AwarenessDeps {
  db: Database;
  settings: Settings;
  audit: EquipmentAudit;
  notify: (message: string) => Promise<void>;
  /** Staff with accounts, as the directory (accounts and their practitioners) names them. */
  directory: () => Promise<StaffEntry[]>;
  seal: (plain: Buffer | string, context: string) => Buffer;
  open: (sealed: Buffer, context: string) => Buffer;
  log: Logger;
  /** Tests give an in-process relay; otherwise awareness.smtp is used. */
  transport?: MailTransport;
  resolver?: IntakeDeps['resolver'];
}

export class AwarenessService {
  readonly config: AwarenessSettings;
  readonly catalogue: Catalogue;
  readonly tracking: Tracking;
  private readonly ranges: BlockList;
  private readonly transport?: MailTransport;
  private timers: NodeJS.Timeout[] = [];
  /** DNS for triage's SPF, DKIM, DMARC and ARC checks: node's own unless set (tests answer from a table). */
  resolver?: IntakeDeps['resolver'];

  constructor(private readonly deps: AwarenessDeps) {
    this.config = awarenessSettings(deps.settings);
    const { list, invalid } = scannerRanges(this.config.scannerRanges);
    if (invalid.length > 0) throw new Error(`carewall.json: awareness.scannerRanges: ${invalid.length} entries are not CIDR ranges`);
    this.ranges = list;
    this.catalogue = new Catalogue(deps.db);
    this.tracking = new Tracking(deps.db, this.catalogue, () => this.trackingUrl());
    this.transport = deps.transport ?? (this.config.smtp ? smtpTransport(this.config.smtp) : undefined);
    this.resolver = deps.resolver;
  }

  /** Where the tracked links point: the setting, or this server's own public address. */
  private trackingUrl(): string | undefined {
    return this.config.trackingUrl ?? this.deps.settings.publicUrl;
  }

  private async allow(who: Who, what: Capability, action: string): Promise<void> {
    if (who.system || who.roles.some((r) => ROLES_FOR[what].includes(r))) return;
    await this.deps.audit({ action, outcome: 'denied', who, reason: `requires the role ${ROLES_FOR[what].join(' or ')}` });
    throw new FhirError(403, 'forbidden', 'access denied');
  }

  private async record(
    who: Who,
    action: string,
    resource?: { type: string; id: string },
    details?: Record<string, string | number | boolean | string[]>,
  ): Promise<void> {
    await this.deps.audit({ action, outcome: 'success', who, ...(resource ? { resource } : {}), ...(details ? { details } : {}) });
  }

  // People and groups

  async people(who: Who) {
    await this.allow(who, 'manage', 'awareness.people.read');
    return listPeople(this.deps.db);
  }

  /** Staff with accounts, with their names, addresses and departments from their practitioners. */
  async syncFromAccounts(who: Who): Promise<{ added: number; updated: number }> {
    await this.allow(who, 'manage', 'awareness.people.sync');
    const entries = await this.deps.directory();
    const r = await this.deps.db.transaction((tx) => upsertPeople(tx, entries, 'accounts', this.config.timeZone));
    await this.record(who, 'awareness.people.sync', undefined, r);
    return r;
  }

  async importStaffCsv(who: Who, text: string): Promise<{ added: number; updated: number }> {
    await this.allow(who, 'manage', 'awareness.people.import');
    const entries = readStaffCsv(text, this.config.timeZone);
    const r = await this.deps.db.transaction((tx) => upsertPeople(tx, entries, 'csv', this.config.timeZone));
    await this.record(who, 'awareness.people.import', undefined, r);
    return r;
  }

  async groups(who: Who) {
    await this.allow(who, 'manage', 'awareness.groups.read');
    return listGroups(this.deps.db);
  }

  async createGroup(who: Who, input: GroupInput) {
    await this.allow(who, 'manage', 'awareness.group.create');
    const g = await this.deps.db.transaction((tx) => createGroup(tx, input, who.username));
    await this.record(who, 'awareness.group.create', { type: 'awareness-group', id: g.id }, { members: g.members });
    return g;
  }

  // Templates, pages, lessons

  async templates(who: Who) {
    await this.allow(who, 'manage', 'awareness.templates.read');
    return this.catalogue.templates();
  }

  async pages(who: Who) {
    await this.allow(who, 'manage', 'awareness.pages.read');
    return this.catalogue.pages();
  }

  /** Lessons are for everyone: a member of staff may read any of them from their own page. */
  lessons() {
    return this.catalogue.lessons();
  }

  async importGophish(who: Who, input: { template?: unknown; page?: unknown; id?: string; from?: string }) {
    await this.allow(who, 'manage', 'awareness.template.import');
    const r = await this.catalogue.importGophish(input, who.username);
    await this.record(who, 'awareness.template.import', undefined, { template: r.template?.id ?? '', page: r.page?.id ?? '' });
    return r;
  }

  // Campaigns

  async createCampaign(who: Who, input: CampaignInput): Promise<{ id: string; targets: number }> {
    await this.allow(who, 'manage', 'awareness.campaign.create');
    const r = await this.deps.db.transaction((tx) =>
      createCampaign(tx, this.catalogue, input, who.username, (token) => this.deps.seal(token, 'awareness-token')),
    );
    await this.record(who, 'awareness.campaign.create', { type: 'awareness-campaign', id: r.id }, { targets: r.targets, dryRun: input.dryRun ?? false });
    return r;
  }

  async campaigns(who: Who): Promise<Campaign[]> {
    await this.allow(who, 'figures', 'awareness.campaigns.read');
    return listCampaigns(this.deps.db);
  }

  async cancelCampaign(who: Who, id: string): Promise<void> {
    await this.allow(who, 'manage', 'awareness.campaign.cancel');
    if (!(await cancelCampaign(this.deps.db, id))) throw new FhirError(409, 'conflict', 'the campaign is not running');
    await this.record(who, 'awareness.campaign.cancel', { type: 'awareness-campaign', id });
  }

  private async campaignOutcomes(id: string): Promise<Outcome[]> {
    if (!(await getCampaign(this.deps.db, id))) throw new FhirError(404, 'not-found', 'no such campaign');
    return outcomes(this.deps.db, this.ranges, 't.campaign_id = $1', [id]);
  }

  async results(who: Who, id: string): Promise<CampaignResults> {
    await this.allow(who, 'figures', 'awareness.results.read');
    return summarise(await this.campaignOutcomes(id));
  }

  async departments(who: Who, id?: string) {
    await this.allow(who, 'figures', 'awareness.results.read');
    const list = id ? await this.campaignOutcomes(id) : await outcomes(this.deps.db, this.ranges, 't.sent_at is not null', []);
    return byDepartment(list);
  }

  /** Each campaign's figures in the order they were sent: the trend. */
  async trend(who: Who) {
    await this.allow(who, 'figures', 'awareness.results.read');
    const all = await outcomes(this.deps.db, this.ranges, 't.sent_at is not null', []);
    const campaigns = await listCampaigns(this.deps.db);
    return campaigns
      .map((c) => {
        const items = all.filter((o) => o.campaignId === c.id);
        const first = items.map((o) => o.sentAt!.getTime()).sort((a, b) => a - b)[0];
        return { campaign: c.id, name: c.name, sentFrom: first ? new Date(first).toISOString() : undefined, ...summarise(items), trainedShare: share(items) };
      })
      .filter((c) => c.sentFrom)
      .sort((a, b) => a.sentFrom!.localeCompare(b.sentFrom!));
  }

  /** Per person, with names: the awareness officer's view only. */
  async personResults(who: Who, id: string) {
    await this.allow(who, 'manage', 'awareness.results.people');
    const people = new Map((await listPeople(this.deps.db)).map((p) => [p.id, p]));
    await this.record(who, 'awareness.results.people', { type: 'awareness-campaign', id });
    return (await this.campaignOutcomes(id)).map((o) => ({ person: describePerson(people.get(o.personId)), ...personLine(o) }));
  }

  /** The figures as CSV: departments for management, people for the awareness officer. */
  async exportCsv(who: Who, id: string, by: 'department' | 'person'): Promise<string> {
    if (by === 'person') {
      const rows = await this.personResults(who, id);
      return toCsv(rows.map((r) => ({ name: r.person.name, email: r.person.email, department: r.person.department, ...flat(r) })));
    }
    const rows = await this.departments(who, id);
    return toCsv(rows.map((r) => ({ ...r })));
  }

  /** A member of staff's own history: what they were sent, what they did, the lessons they passed. */
  async mine(who: Who) {
    const person = await personByUsername(this.deps.db, who.username);
    if (!person) return { enrolled: false, coursePassed: false, history: [] };
    const list = await outcomes(this.deps.db, this.ranges, 't.person_id = $1 and t.sent_at is not null', [person.id]);
    const names = new Map((await listCampaigns(this.deps.db)).map((c) => [c.id, c.name]));
    const templates = new Map((await this.catalogue.templates()).map((t) => [t.id, t.name]));
    return {
      enrolled: Boolean(person.courseEnrolledAt),
      coursePassed: Boolean(person.coursePassedAt),
      history: list.map((o) => ({ campaign: names.get(o.campaignId) ?? '', message: templates.get(o.templateId) ?? '', ...personLine(o) })),
    };
  }

  // Sending

  /** Sends what is due now (the server's job calls it; tests call it with their own clock). */
  sendDue(now: Date = new Date()): Promise<number> {
    return sendDue(
      {
        db: this.deps.db,
        catalogue: this.catalogue,
        ...(this.transport ? { transport: this.transport } : {}),
        ...(this.trackingUrl() ? { trackingUrl: this.trackingUrl() } : {}),
        perMinute: this.config.sendPerMinute,
        openToken: (sealed) => this.deps.open(sealed, 'awareness-token').toString('utf8'),
      },
      now,
    );
  }

  // Reports and triage

  private intakeDeps(): IntakeDeps {
    return {
      db: this.deps.db,
      domains: () => this.config.domains,
      staff: async () => (await listPeople(this.deps.db)).map((p) => ({ name: `${p.firstName} ${p.lastName}`, email: p.email })),
      seal: (raw, id) => this.deps.seal(raw, `awareness-report:${id}`),
      ...(this.resolver ? { resolver: this.resolver } : {}),
    };
  }

  /** The report button: any member of staff. */
  async report(who: Who, raw: Buffer, at: Date = new Date()): Promise<ReportAnswer> {
    const answer = await intake(this.intakeDeps(), who.username, raw, 'button', at);
    await this.record(
      who,
      'awareness.report',
      { type: 'awareness-report', id: answer.id },
      { verdict: answer.verdict, simulation: Boolean(answer.simulation) },
    );
    if (!answer.simulation && answer.verdict === 'phishing')
      await this.deps.notify(`A member of staff reported a message that triage judges phishing (report ${answer.id})`);
    return answer;
  }

  /** What one has reported and what became of it. */
  async myReports(who: Who) {
    return reportsOf(this.deps.db, who.username);
  }

  async queue(who: Who, filter: { sender?: string; subject?: string; link?: string; open?: boolean }) {
    await this.allow(who, 'triage', 'awareness.reports.read');
    const reports = await searchReports(this.deps.db, filter);
    if (filter.sender || filter.subject || filter.link) await this.record(who, 'awareness.reports.search', undefined, { found: reports.length });
    return { reports, clusters: clusters(reports) };
  }

  async decide(who: Who, id: string, outcome: ReportOutcome, note: string, at: Date = new Date()): Promise<number> {
    await this.allow(who, 'triage', 'awareness.report.decide');
    const n = await decide(this.deps.db, id, outcome, note, who.username, at);
    await this.record(who, 'awareness.report.decide', { type: 'awareness-report', id }, { outcome, reports: n });
    return n;
  }

  /**
   * Every member of staff's mailbox searched for a message, by sender, subject or link: a list of
   * where it sits (security administrator only: it opens everyone's mailbox, read-only).
   */
  async searchMailboxes(who: Who, filter: SearchFilter) {
    if (!who.system && !who.roles.includes('security-admin')) {
      await this.deps.audit({ action: 'awareness.mailboxes.search', outcome: 'denied', who, reason: 'requires the role security-admin' });
      throw new FhirError(403, 'forbidden', 'access denied');
    }
    if (!filter.sender && !filter.subject && !filter.link) throw new FhirError(400, 'invalid', 'search by sender, subject or link');
    if (!this.config.mailboxSearch) throw new FhirError(409, 'conflict', 'no mail server account for searching mailboxes is set (awareness.mailboxSearch)');
    const mailboxes = (await listPeople(this.deps.db)).filter((p) => p.active).map((p) => p.email);
    const r = await searchMailboxes(this.config.mailboxSearch, mailboxes, filter);
    await this.record(who, 'awareness.mailboxes.search', undefined, { searched: r.searched, failed: r.failed, found: r.hits.length });
    return r;
  }

  /** Reads the report mailbox once (the server's job calls it). */
  async pollMailbox(at: () => Date = () => new Date()): Promise<number> {
    if (!this.config.reportMailbox) return 0;
    return pollReportMailbox(this.config.reportMailbox, async (address, raw) => {
      // Anyone on the internet can write to the report address: only staff's reports are taken (an
      // outsider's would fill the queue, or credit a simulation whose link they were given).
      const person = await personByEmail(this.deps.db, address);
      if (!person || !person.active) {
        this.deps.log.info('awareness: a message in the report mailbox from someone not among the staff was set aside');
        return;
      }
      // Reports by mail are kept under the reporter's account when they have one (their own page shows them).
      const reporter = person.username ?? address;
      const answer = await intake(this.intakeDeps(), reporter, raw, 'mailbox', at());
      await this.deps.audit({
        action: 'awareness.report',
        outcome: 'success',
        who: { accountId: `mailbox:${reporter}`, username: reporter, roles: [] },
        resource: { type: 'awareness-report', id: answer.id },
        details: { verdict: answer.verdict, simulation: Boolean(answer.simulation), via: 'mailbox' },
      });
    });
  }

  /** The server's jobs: sending as messages fall due, reading the report mailbox. */
  start(): void {
    const guard = (what: string, f: () => Promise<unknown>) => () =>
      void f().catch((err: Error) => this.deps.log.warn({ err: { type: err.name, code: (err as { code?: string }).code } }, `awareness: ${what} failed`));
    this.timers.push(
      setInterval(
        guard('sending', () => this.sendDue()),
        15_000,
      ),
    );
    if (this.config.reportMailbox)
      this.timers.push(
        setInterval(
          guard('report mailbox', () => this.pollMailbox()),
          this.config.reportMailbox.pollSeconds * 1000,
        ),
      );
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.transport?.close?.();
  }
}

function share(items: Outcome[]): number {
  const base = items.filter((o) => o.delivered).length || items.filter((o) => o.sent).length;
  return base === 0 ? 0 : Math.round((items.filter((o) => o.trained).length / base) * 10_000) / 10_000;
}

function describePerson(p: { firstName: string; lastName: string; email: string; department: string } | undefined) {
  return p ? { name: `${p.firstName} ${p.lastName}`, email: p.email, department: p.department } : { name: '', email: '', department: '' };
}

function personLine(o: Outcome) {
  return {
    sentAt: o.sentAt?.toISOString() ?? null,
    delivered: o.delivered,
    opened: o.opened,
    clicked: o.clicked,
    submitted: o.submitted,
    reported: o.reportedAt !== undefined,
    trained: o.trained,
    scannerClicks: o.scannerClicks.length,
  };
}

function flat(r: ReturnType<typeof personLine>): Record<string, string | number | null> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 'yes' : 'no') : v]));
}
