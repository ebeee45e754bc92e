/**
 * The privacy officer's overview: where the office stands today, from the routes each of its screens
 * already uses (the audit log's counts, the review queue, the monitor's alerts and cases, the signed
 * checkpoint). Every figure is text; the bars only draw it (the posture screen's accessible bars).
 */
import { Type } from '@sinclair/typebox';
import { AlertList, CaseList, GrantList } from '../../../src/api/index.js';
import { get, getText } from '../api';
import { Link } from '../router';
import { day, ErrorNote, Loading, useLoad } from '../ui';

const DAYS = 14;
const Count = Type.Object({ total: Type.Integer() });

/** Midnight (local time) of each of the last `n` days, oldest first, and the midnight after the last. */
function lastDays(n: number, now = new Date()): Date[] {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return Array.from({ length: n + 1 }, (_, i) => new Date(today.getFullYear(), today.getMonth(), today.getDate() - n + 1 + i));
}

async function recordReadsPerDay(): Promise<Array<{ day: string; reads: number }>> {
  const edges = lastDays(DAYS);
  return Promise.all(
    edges.slice(0, -1).map(async (start, i) => {
      const end = edges[i + 1]!;
      const q = `action=R&date=ge${encodeURIComponent(start.toISOString())}&date=lt${encodeURIComponent(end.toISOString())}&_summary=count`;
      return { day: start.toISOString(), reads: (await get(Count, `/fhir/AuditEvent?${q}`)).total };
    }),
  );
}

async function overview() {
  const [reads, unreviewed, grants, alerts, cases, logSize, checkpoint] = await Promise.all([
    recordReadsPerDay(),
    get(GrantList, '/api/break-glass?status=unreviewed'),
    get(GrantList, '/api/break-glass?status=all'),
    get(AlertList, '/api/monitor/alerts?status=new'),
    get(CaseList, '/api/monitor/cases?status=all'),
    get(Count, '/fhir/AuditEvent?_summary=count'),
    getText('/api/audit/checkpoint'),
  ]);
  const monthAgo = Date.now() - 30 * 24 * 3600_000;
  const oldestWaiting = unreviewed.grants.reduce<string | null>((oldest, g) => (!oldest || g.startedAt < oldest ? g.startedAt : oldest), null);
  const byState = (['open', 'investigating', 'closed'] as const).map((state) => ({ state, count: cases.cases.filter((c) => c.status === state).length }));
  return {
    reads,
    waiting: unreviewed.grants.length,
    oldestWaiting,
    openedThisMonth: grants.grants.filter((g) => Date.parse(g.startedAt) >= monthAgo).length,
    newAlerts: alerts.alerts.length,
    byState,
    logSize: logSize.total,
    signed: Number(checkpoint.split('\n')[1] ?? 0),
  };
}

function Bars({ labelledBy, rows }: { labelledBy: string; rows: Array<{ label: string; value: number }> }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <ul className="bars" aria-labelledby={labelledBy}>
      {rows.map((r) => (
        <li key={r.label}>
          <span className="bar-label">{r.label}</span>
          <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
            <rect x={0} y={0} width={100} height={10} className="bar-back" />
            <rect x={0} y={0} width={Math.round((r.value / max) * 100)} height={10} className="bar-fill" />
          </svg>
          <span className="bar-value">{r.value}</span>
        </li>
      ))}
    </ul>
  );
}

function waitedInWords(days: number): string {
  return days === 0 ? 'opened today' : `waiting for ${days} ${days === 1 ? 'day' : 'days'}`;
}

const STATE_WORDS = { open: 'Open', investigating: 'Being investigated', closed: 'Closed' };

export function PrivacyOverview() {
  const { data, error, loading } = useLoad(overview, []);
  const daysWaiting = data?.oldestWaiting ? Math.floor((Date.now() - Date.parse(data.oldestWaiting)) / (24 * 3600_000)) : 0;
  return (
    <section>
      <h1>Privacy overview</h1>
      <ErrorNote error={error} />
      <Loading when={loading && !data} />
      {data ? (
        <>
          <div className="card">
            <h2>Break-the-glass</h2>
            <p className={data.waiting > 0 && daysWaiting >= 7 ? 'error' : undefined}>
              <strong>{data.waiting}</strong> emergency {data.waiting === 1 ? 'access waits' : 'accesses wait'} for review
              {data.oldestWaiting ? `, the oldest ${waitedInWords(daysWaiting)} (the clinic's rule: within a week)` : ''}; {data.openedThisMonth} opened in the
              last 30 days. <Link to="/privacy/break-glass">Review them</Link>
            </p>
          </div>
          <div className="card">
            <h2 id="reads-title">Chart openings per day, last {DAYS} days</h2>
            <p className="muted">Records read by staff, as the audit log counts them.</p>
            <Bars labelledBy="reads-title" rows={data.reads.map((r) => ({ label: day(r.day), value: r.reads }))} />
          </div>
          <div className="card">
            <h2 id="cases-title">Misuse alerts and cases</h2>
            <p>
              <strong>{data.newAlerts}</strong> new {data.newAlerts === 1 ? 'alert' : 'alerts'} not yet in a case.{' '}
              <Link to="/privacy/cases">Open the alerts</Link>
            </p>
            <Bars labelledBy="cases-title" rows={data.byState.map((s) => ({ label: STATE_WORDS[s.state], value: s.count }))} />
          </div>
          <div className="card">
            <h2>Audit log</h2>
            <p className={data.signed < data.logSize ? undefined : 'ok'}>
              <strong>{data.logSize}</strong> records; the latest signed checkpoint covers <strong>{data.signed}</strong>
              {data.signed < data.logSize ? ` (${data.logSize - data.signed} recorded since, signed at the next checkpoint)` : ''}.{' '}
              <Link to="/privacy/log-health">Open the log's health</Link>
            </p>
          </div>
        </>
      ) : null}
    </section>
  );
}
