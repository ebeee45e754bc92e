/**
 * The privacy officer's watch list (GET /api/monitor/watch) and what closed cases taught the monitor
 * (GET /api/monitor/learning), shown below the alerts: people by name, probabilities in words.
 */
import { useState } from 'react';
import { CaseSummary, LearningList, WatchList, type WatchItem } from '../../../src/api/index.js';
import { get, post } from '../api';
import { navigate } from '../router';
import { nameOf, type Person } from '../staff';
import { ErrorNote, Loading, useLoad, when } from '../ui';

/** What each pattern is, as a privacy officer would say it. */
const SCENARIO_WORDS: Record<string, string> = {
  family: 'a relative or someone of the household',
  coworker: 'a colleague',
  neighbour: 'a neighbour',
  vip: 'a VIP, or a chart many opened at once',
  self: 'their own chart',
  curiosity: 'charts nothing explains',
  department: "another department's patients",
  credentials: 'signs of someone else using the account',
};
export const scenarioInWords = (s: string) => SCENARIO_WORDS[s] ?? s;

/** "about 1 in 300": how often ordinary work would show this much. */
export function chanceInWords(p: number): string {
  if (!(p > 0)) return 'practically never';
  const n = 1 / p;
  const rounded = n < 10 ? Math.round(n) : Number(n.toPrecision(2));
  return `about 1 in ${rounded.toLocaleString('en')}`;
}

function WatchCard({ item, staff }: { item: WatchItem; staff: Person[] }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const who = nameOf(staff, item.user);
  const n = item.patients.length;
  const open = async () => {
    setError(null);
    try {
      const c = await post(CaseSummary, `/api/monitor/watch/${item.id}/case`, { reason });
      navigate(`/privacy/cases/${c.id}`);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <li className="card" aria-label={`watch-list entry: ${who}, ${scenarioInWords(item.scenario)}`}>
      <h3>
        {who}: {scenarioInWords(item.scenario)}
      </h3>
      <dl className="facts">
        <div>
          <dt>Patients</dt>
          <dd>{n === 1 ? '1 patient' : `${n} patients`}</dd>
        </div>
        <div>
          <dt>Accesses</dt>
          <dd>
            {when(item.firstAccess)} – {when(item.lastAccess)}
          </dd>
        </div>
        <div>
          <dt>How unusual</dt>
          <dd>
            {chanceInWords(item.p)} under this hospital&apos;s own rates;{' '}
            {item.level > 0 ? `an alert needed ${chanceInWords(item.level)} or rarer in that scan` : 'that scan could afford no alert of this kind'}
            {item.weight
              ? `; weighed down ${item.weight}× because privacy officers closed such cases for this role and department as legitimate or false positives`
              : ''}
          </dd>
        </div>
      </dl>
      <details>
        <summary>Why it ranked here</summary>
        <ul>
          {item.evidence.map((e, i) => (
            <li key={i}>{e}</li>
          ))}
        </ul>
      </details>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void open();
        }}
      >
        <label>
          Why open a case
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
        </label>
        <button type="submit" disabled={reason.trim() === ''} aria-label={`Open case for ${who} from the watch list`}>
          Open case
        </button>
      </form>
      <ErrorNote error={error} />
    </li>
  );
}

/** Below the alerts: what the alert budget held back, most unusual first. */
export function WatchListSection({ staff }: { staff: Person[] }) {
  const { data, error, loading } = useLoad(() => get(WatchList, '/api/monitor/watch'), []);
  return (
    <section aria-labelledby="watch-heading">
      <h2 id="watch-heading">Watch list</h2>
      <p className="muted">
        Accesses the monitor found unusual but not unusual enough to raise an alert: below the alert level, so not accusations. Kept here, most unusual first,
        for a look; open a case when you know more than the log does.
      </p>
      <ErrorNote error={error} />
      <Loading when={loading && !data} />
      {data && data.watch.length === 0 ? <p className="muted">Nothing on the watch list.</p> : null}
      <ul className="cards">
        {data?.watch.map((w) => (
          <WatchCard key={w.id} item={w} staff={staff} />
        ))}
      </ul>
    </section>
  );
}

/** What closed cases taught: the patterns weighed down, and the last changes with who made them. */
export function LearningSection({ staff }: { staff: Person[] }) {
  const { data, error } = useLoad(() => get(LearningList, '/api/monitor/learning'), []);
  const group = (g: { role: string; department: string | null; departmentName: string | null }) =>
    `${g.role}, ${g.departmentName ?? g.department ?? 'no department'}`;
  return (
    <section aria-labelledby="learning-heading">
      <h2 id="learning-heading">What closed cases taught the monitor</h2>
      <p className="muted">
        A case closed as legitimate or a false positive makes the same pattern half as alarming for that role and department, at most ten times; one closed as a
        violation undoes a step.
      </p>
      <ErrorNote error={error} />
      {data && data.changes.length === 0 ? <p className="muted">Nothing yet.</p> : null}
      {data && data.weights.length > 0 ? (
        <ul aria-label="Patterns weighed down">
          {data.weights.map((w) => (
            <li key={`${w.scenario}|${w.role}|${w.department}`}>
              {scenarioInWords(w.scenario)} for {group(w)}: {w.weight}× less alarming
            </li>
          ))}
        </ul>
      ) : null}
      {data && data.changes.length > 0 ? (
        <ul aria-label="Changes">
          {data.changes.slice(0, 10).map((c, i) => (
            <li key={i}>
              {when(c.at)}: {nameOf(staff, c.by)} closed a case as {c.resolution === 'false-positive' ? 'a false positive' : c.resolution};{' '}
              {scenarioInWords(c.scenario)} for {group(c)} {c.before === c.after ? `stayed at ${c.after}×` : `went from ${c.before}× to ${c.after}×`}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
