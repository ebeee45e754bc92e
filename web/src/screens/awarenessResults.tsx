/**
 * A campaign's results in words and percentages, by department, with the trend over all campaigns
 * and CSV exports. Names are the awareness officer's alone: administrators and security
 * administrators see departments (small ones pooled by the server), never people.
 */
import {
  AwarenessCampaigns,
  AwarenessDepartments,
  AwarenessPeopleResults,
  AwarenessResults,
  AwarenessTrend,
  type AwarenessPeopleResults as PeopleT,
} from '../../../src/api/index.js';
import { get, getText } from '../api';
import { navigate } from '../router';
import { ErrorNote, Heads, Loading, useAction, useLoad } from '../ui';
import { CAMPAIGN_STATE, didWhat, figureSentences, pct } from './awarenessWords';
import { TrendOverCampaigns } from './awarenessTrend';

export function Results({ campaignId, seesNames }: { campaignId?: string; seesNames: boolean }) {
  const campaigns = useLoad(() => get(AwarenessCampaigns, '/api/awareness/campaigns'), []);
  const trend = useLoad(() => get(AwarenessTrend, '/api/awareness/trend'), []);
  // Without a campaign named, the one that sent most recently (the list is newest first).
  const id = campaignId ?? campaigns.data?.find((c) => c.state !== 'scheduled')?.id ?? campaigns.data?.[0]?.id;
  const campaign = campaigns.data?.find((c) => c.id === id);
  return (
    <section>
      <h1>Awareness results</h1>
      <ErrorNote error={campaigns.error} />
      <Loading when={campaigns.loading} />
      {campaigns.data && campaigns.data.length === 0 ? <p>No campaign yet.</p> : null}
      {campaigns.data && campaigns.data.length > 0 ? (
        <label>
          Campaign{' '}
          <select value={id ?? ''} onChange={(e) => navigate(`/awareness/results/${e.target.value}`)}>
            {campaigns.data.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({CAMPAIGN_STATE[c.state].toLowerCase()})
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {id && campaign ? <CampaignFigures id={id} name={campaign.name} dryRun={campaign.plan.dryRun} seesNames={seesNames} /> : null}
      <div className="card wide">
        <h2>Trend over the campaigns</h2>
        <ErrorNote error={trend.error} />
        {trend.data ? <TrendOverCampaigns trend={trend.data} /> : null}
      </div>
    </section>
  );
}

function CampaignFigures({ id, name, dryRun, seesNames }: { id: string; name: string; dryRun: boolean; seesNames: boolean }) {
  const results = useLoad(() => get(AwarenessResults, `/api/awareness/campaigns/${id}/results`), [id]);
  const departments = useLoad(() => get(AwarenessDepartments, `/api/awareness/campaigns/${id}/departments`), [id]);
  const people = useLoad(() => (seesNames ? get(AwarenessPeopleResults, `/api/awareness/campaigns/${id}/people`) : Promise.resolve(null)), [id, seesNames]);
  return (
    <>
      <div className="card wide">
        <h2>{name}</h2>
        <ErrorNote error={results.error} />
        <Loading when={results.loading} />
        {results.data ? (
          <ul className="figures">
            {figureSentences(results.data, dryRun).map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
        ) : null}
        <Exports id={id} seesNames={seesNames} />
      </div>
      <div className="card wide">
        <h2>By department</h2>
        <p className="muted">Departments of fewer than three people are counted together, so that no one is singled out.</p>
        <ErrorNote error={departments.error} />
        {departments.data ? (
          <table>
            <Heads cols={['Department', 'People', 'Clicked or typed something', 'Reported it', 'Passed the lesson']} />
            <tbody>
              {departments.data.map((d) => (
                <tr key={d.department}>
                  <td>{d.department}</td>
                  <td>{d.people}</td>
                  <td>{pct(d.phishProne)}</td>
                  <td>{pct(d.reportRate)}</td>
                  <td>{d.trained}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
      {seesNames ? (
        <div className="card wide">
          <h2>People</h2>
          <p className="muted">Only you, as awareness officer, see names. Use them to offer help, not to blame.</p>
          <ErrorNote error={people.error} />
          {people.data ? <PeopleTable people={people.data} /> : null}
        </div>
      ) : null}
    </>
  );
}

function PeopleTable({ people }: { people: PeopleT }) {
  return (
    <table>
      <Heads cols={['Name', 'Department', 'What happened', 'Link visits by mail scanners']} />
      <tbody>
        {[...people]
          .sort((a, b) => a.person.name.localeCompare(b.person.name))
          .map((p) => (
            <tr key={p.person.email}>
              <td>{p.person.name}</td>
              <td>{p.person.department || '—'}</td>
              <td>{didWhat(p)}</td>
              <td>{p.scannerClicks}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}

/** The CSV files: fetched with the session (a plain link would carry no credentials), then saved. */
function Exports({ id, seesNames }: { id: string; seesNames: boolean }) {
  const save = (by: 'department' | 'person') => async () => {
    const csv = await getText(`/api/awareness/campaigns/${id}/export.csv?by=${by}`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    a.download = `campaign-${by}.csv`;
    a.click();
    // Released once the browser has surely taken the file (revoking at once can cancel the download).
    const href = a.href;
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
  };
  const byDepartment = useAction(save('department'));
  const byPerson = useAction(save('person'));
  return (
    <div className="actions">
      <ErrorNote error={byDepartment.error ?? byPerson.error} />
      <button type="button" disabled={byDepartment.busy} onClick={() => void byDepartment.run()}>
        Download by department (CSV)
      </button>
      {seesNames ? (
        <button type="button" disabled={byPerson.busy} onClick={() => void byPerson.run()}>
          Download by person (CSV)
        </button>
      ) : null}
    </div>
  );
}
