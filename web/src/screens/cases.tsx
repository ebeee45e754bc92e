import { useState } from 'react';
import {
  AlertList,
  AssigneeList,
  CaseDetail,
  CaseList,
  CaseSummary,
  type AssignBody,
  type CaseStatusBody,
  type NoteBody,
  type StoredAlert,
} from '../../../src/api/index.js';
import { get, post, send } from '../api';
import { scenarioInWords } from '../people';
import { Link, navigate } from '../router';
import { useSortable } from '../sortable';
import { nameOf, useStaff } from '../staff';
import { ErrorNote, Loading, useLoad, when } from '../ui';
import { LearningSection, WatchListSection } from './watchList';

/** New alerts (to open cases from) and the cases, or one case's page. */
export function Cases({ caseId }: { caseId?: string }) {
  return caseId ? <CasePage id={caseId} /> : <CaseLists />;
}

function CaseLists() {
  const [status, setStatus] = useState<'all' | 'open' | 'investigating' | 'closed'>('all');
  const [scenario, setScenario] = useState('');
  const alerts = useLoad(() => get(AlertList, '/api/monitor/alerts?status=new'), []);
  const staff = useStaff();
  const cases = useLoad(() => get(CaseList, `/api/monitor/cases?status=${status}`), [status]);
  const [error, setError] = useState<string | null>(null);
  const open = async (a: StoredAlert) => {
    setError(null);
    try {
      const c = await post(CaseSummary, '/api/monitor/cases', { alerts: [a.id] });
      navigate(`/privacy/cases/${c.id}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const shown = (alerts.data?.alerts ?? []).filter((a) => !scenario || a.scenario === scenario);
  const scenarios = [...new Set((alerts.data?.alerts ?? []).map((a) => a.scenario))].sort((a, b) => scenarioInWords(a).localeCompare(scenarioInWords(b)));
  type Case = CaseList['cases'][number];
  const alertTable = useSortable<StoredAlert>(shown, [
    { label: 'User', sortBy: (a) => nameOf(staff, a.user) },
    { label: 'Scenario', sortBy: (a) => scenarioInWords(a.scenario) },
    { label: 'Score', sortBy: (a) => a.score },
    { label: 'Patients', sortBy: (a) => a.patients.length },
    { label: 'Accesses', sortBy: (a) => a.firstAccess },
    { label: 'Evidence' },
    { label: '' },
  ]);
  const caseTable = useSortable<Case>(cases.data?.cases, [
    { label: 'Case', sortBy: (c) => c.title },
    { label: 'User', sortBy: (c) => nameOf(staff, c.user) },
    { label: 'Status', sortBy: (c) => c.status },
    { label: 'Assignee', sortBy: (c) => c.assignee },
    { label: 'Updated', sortBy: (c) => c.updatedAt },
  ]);
  return (
    <section>
      <h1>Alerts and cases</h1>
      <h2>New alerts</h2>
      <label>
        Scenario
        <select value={scenario} onChange={(e) => setScenario(e.target.value)}>
          <option value="">all</option>
          {scenarios.map((s) => (
            <option key={s} value={s}>
              {scenarioInWords(s)}
            </option>
          ))}
        </select>
      </label>
      <ErrorNote error={alerts.error} />
      <ErrorNote error={error} />
      <Loading when={alerts.loading && !alerts.data} />
      {alerts.data && shown.length === 0 ? (
        <p className="muted">
          {scenario ? `No new alert of ${scenarioInWords(scenario)} waits for you.` : 'No new alert waits for you: the misuse monitor has found nothing new.'}
        </p>
      ) : null}
      {shown.length > 0 ? (
        <table>
          <caption className="sr-only">New alerts</caption>
          {alertTable.heads}
          <tbody>
            {alertTable.rows.map((a) => (
              <tr key={a.id}>
                <td>{nameOf(staff, a.user)}</td>
                <td>{scenarioInWords(a.scenario)}</td>
                <td>{a.score.toFixed(2)}</td>
                <td>{a.patients.length}</td>
                <td>
                  {when(a.firstAccess)} – {when(a.lastAccess)}
                </td>
                <td>{a.evidence[0] ?? ''}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => void open(a)}
                    aria-label={`open a case for the ${scenarioInWords(a.scenario)} alert on ${nameOf(staff, a.user)}`}
                  >
                    Open case
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <WatchListSection staff={staff} />
      <h2>Cases</h2>
      <label>
        Status
        <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <option value="all">all</option>
          <option value="open">open</option>
          <option value="investigating">investigating</option>
          <option value="closed">closed</option>
        </select>
      </label>
      <ErrorNote error={cases.error} />
      {cases.data && cases.data.cases.length === 0 ? (
        <p className="muted">{status === 'all' ? 'No case has been opened yet.' : `No case is ${status}.`}</p>
      ) : null}
      {cases.data && cases.data.cases.length > 0 ? (
        <table>
          <caption className="sr-only">Cases</caption>
          {caseTable.heads}
          <tbody>
            {caseTable.rows.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/privacy/cases/${c.id}`}>{c.title}</Link>
                </td>
                <td>{nameOf(staff, c.user)}</td>
                <td>{c.status === 'closed' ? `closed: ${c.resolution}` : c.status}</td>
                <td>{c.assignee ?? '—'}</td>
                <td>{when(c.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LearningSection staff={staff} />
    </section>
  );
}

function CasePage({ id }: { id: string }) {
  const c = useLoad(() => get(CaseDetail, `/api/monitor/cases/${id}`), [id]);
  const people = useLoad(() => get(AssigneeList, '/api/monitor/assignees'), []);
  const staff = useStaff();
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState('');
  // No decision is preselected: closing a case is a finding, never a default.
  const [resolution, setResolution] = useState<'' | 'violation' | 'legitimate' | 'false-positive'>('');
  const [finding, setFinding] = useState('');
  const [error, setError] = useState<string | null>(null);
  const act = async (path: 'assign' | 'notes' | 'status', body: AssignBody | NoteBody | CaseStatusBody) => {
    setError(null);
    try {
      await send(`/api/monitor/cases/${id}/${path}`, { body });
      c.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (c.loading && !c.data) return <Loading when />;
  if (c.error) return <ErrorNote error={c.error} />;
  const d = c.data!;
  return (
    <article aria-labelledby="case-title">
      <p>
        <Link to="/privacy/cases">← All alerts and cases</Link>
      </p>
      <h1 id="case-title">{d.title}</h1>
      <dl className="facts">
        <div>
          <dt>User</dt>
          <dd>{nameOf(staff, d.user)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{d.status === 'closed' ? `closed: ${d.resolution}` : d.status}</dd>
        </div>
        <div>
          <dt>Assignee</dt>
          <dd>{d.assignee ? (people.data?.assignees.find((p) => p.username === d.assignee)?.name ?? d.assignee) : 'nobody yet'}</dd>
        </div>
        <div>
          <dt>Scenarios</dt>
          <dd>{d.scenarios.map(scenarioInWords).join(', ')}</dd>
        </div>
      </dl>
      <div className="grid">
        <section className="card" aria-labelledby="h-evidence">
          <h2 id="h-evidence">Evidence</h2>
          {d.alerts.map((a) => (
            <div key={a.id}>
              <h3>
                {a.scenario} (score {a.score.toFixed(2)})
              </h3>
              <ul>
                {a.evidence.map((e, i) => (
                  <li key={i}>{e}</li>
                ))}
              </ul>
            </div>
          ))}
        </section>
        <section className="card" aria-labelledby="h-timeline">
          <h2 id="h-timeline">Timeline</h2>
          <ol className="timeline">
            {d.timeline.map((t, i) => (
              <li key={i}>
                <strong>{when(t.at)}</strong> {t.by}: {t.kind}
                {t.text ? ` — ${t.text}` : ''}
              </li>
            ))}
          </ol>
        </section>
      </div>
      <section className="card wide" aria-labelledby="h-accesses">
        <h2 id="h-accesses">The accesses behind it</h2>
        {d.accesses.length === 0 ? <p className="muted">No recorded accesses in the alerts&apos; windows.</p> : null}
        <ol className="timeline">
          {d.accesses.slice(0, 200).map((a, i) => (
            <li key={i}>
              <strong>{when(a.time)}</strong> {a.action} {a.resource ?? a.patient} ({a.outcome})
            </li>
          ))}
        </ol>
      </section>
      {d.status !== 'closed' ? (
        <section className="card" aria-labelledby="h-work">
          <h2 id="h-work">Work on the case</h2>
          <ErrorNote error={error} />
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void act('assign', { assignee });
            }}
          >
            <label>
              Assign to
              <select value={assignee} onChange={(e) => setAssignee(e.target.value)} required>
                <option value="">Choose a privacy officer</option>
                {(people.data?.assignees ?? []).map((p) => (
                  <option key={p.username} value={p.username}>
                    {p.name === p.username ? p.name : `${p.name} (${p.username})`}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Assign</button>
          </form>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void act('notes', { text: note }).then(() => setNote(''));
            }}
          >
            <label>
              Note
              <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} required />
            </label>
            <button type="submit">Add note</button>
          </form>
          <div className="actions">
            {d.status === 'open' ? (
              <button type="button" onClick={() => void act('status', { status: 'investigating' })}>
                Start investigating
              </button>
            ) : null}
          </div>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (resolution === '') return;
              const consequence =
                resolution === 'legitimate'
                  ? 'Close as legitimate? This user will no longer be flagged for these patients in this way.'
                  : resolution === 'violation'
                    ? 'Close as a violation? The case and its note stay on the record as a finding against this user.'
                    : 'Close as a false positive? The alert was wrong; nothing is held against the user.';
              if (!window.confirm(consequence)) return;
              void act('status', { status: 'closed', resolution, note: finding });
            }}
          >
            <label>
              Decision
              <select value={resolution} onChange={(e) => setResolution(e.target.value as typeof resolution)} required>
                <option value="">Choose a decision</option>
                <option value="violation">a violation</option>
                <option value="legitimate">legitimate (stop flagging this)</option>
                <option value="false-positive">a false positive</option>
              </select>
            </label>
            <label>
              What was found
              <textarea value={finding} onChange={(e) => setFinding(e.target.value)} rows={2} required />
            </label>
            <button type="submit" className="primary" disabled={resolution === '' || finding.trim() === ''}>
              Close case
            </button>
          </form>
        </section>
      ) : null}
    </article>
  );
}
