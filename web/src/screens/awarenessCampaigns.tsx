/**
 * Phishing campaigns: the awareness officer plans them (a group, messages of chosen difficulty, a
 * sending window in business hours) and cancels them; administrators and security administrators
 * see the same list, read-only. Creating and cancelling say what will happen and are confirmed.
 */
import { useState } from 'react';
import {
  AwarenessCampaigns,
  AwarenessCreated,
  AwarenessGroups,
  AwarenessTemplates,
  type AwarenessCampaigns as CampaignsT,
  type AwarenessGroups as GroupsT,
} from '../../../src/api/index.js';
import { get, post, send } from '../api';
import { Link } from '../router';
import { Dialog, ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';
import { CAMPAIGN_STATE, DIFFICULTY, people, WEEKDAYS } from './awarenessWords';
import { NewGroup } from './awarenessGroups';

type Campaign = CampaignsT[number];

export function Campaigns({ canManage }: { canManage: boolean }) {
  const campaigns = useLoad(() => get(AwarenessCampaigns, '/api/awareness/campaigns'), []);
  const groups = useLoad(() => (canManage ? get(AwarenessGroups, '/api/awareness/groups') : Promise.resolve([] as GroupsT)), [canManage]);
  const [cancelling, setCancelling] = useState<Campaign | null>(null);
  return (
    <section>
      <h1>Phishing campaigns</h1>
      {canManage ? null : <p className="muted">You see the campaigns and their figures; the awareness officer plans them.</p>}
      <ErrorNote error={campaigns.error} />
      <Loading when={campaigns.loading} />
      {campaigns.data && campaigns.data.length === 0 ? <p>No campaign yet.</p> : null}
      {campaigns.data && campaigns.data.length > 0 ? (
        <table>
          <caption className="sr-only">Campaigns, newest first</caption>
          <Heads cols={['Campaign', 'State', 'Group', 'People', 'Sending window', '']} />
          <tbody>
            {campaigns.data.map((c) => (
              <tr key={c.id}>
                <td>
                  {c.name}
                  {c.plan.dryRun ? <span className="chip">dry run</span> : null}
                </td>
                <td>{CAMPAIGN_STATE[c.state]}</td>
                <td>{c.groupName}</td>
                <td>{c.targets}</td>
                <td>
                  {when(c.plan.window.start)} – {when(c.plan.window.end)}, {c.plan.window.from}–{c.plan.window.to}
                </td>
                <td>
                  <Link to={`/awareness/results/${c.id}`}>Results of {c.name}</Link>
                  {canManage && (c.state === 'scheduled' || c.state === 'sending') ? (
                    <button type="button" className="danger" onClick={() => setCancelling(c)}>
                      Cancel {c.name}…
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {canManage ? (
        <>
          <NewCampaign groups={groups.data ?? []} onDone={campaigns.reload} />
          <NewGroup onDone={groups.reload} />
        </>
      ) : null}
      {cancelling ? <CancelCampaign campaign={cancelling} onClose={() => setCancelling(null)} onDone={campaigns.reload} /> : null}
    </section>
  );
}

function CancelCampaign({ campaign, onClose, onDone }: { campaign: Campaign; onClose: () => void; onDone: () => void }) {
  const run = useAction(async () => {
    await send(`/api/awareness/campaigns/${campaign.id}/cancel`);
    onDone();
    onClose();
  });
  return (
    <Dialog title={`Cancel ${campaign.name}`} open={true} onClose={onClose}>
      <p>Messages not yet sent will not be sent. Those already sent stay in people&apos;s mailboxes, and their figures are kept.</p>
      <ErrorNote error={run.error} />
      <div className="actions">
        <button type="button" className="danger" disabled={run.busy} onClick={() => void run.run()}>
          Cancel the campaign
        </button>
        <button type="button" onClick={onClose}>
          Keep it
        </button>
      </div>
    </Dialog>
  );
}

/** A datetime-local value (the browser's own zone) as an instant the server reads. */
const instant = (local: string) => (local ? new Date(local).toISOString() : '');

function NewCampaign({ groups, onDone }: { groups: GroupsT; onDone: () => void }) {
  const templates = useLoad(() => get(AwarenessTemplates, '/api/awareness/templates'), []);
  const [name, setName] = useState('');
  const [group, setGroup] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [from, setFrom] = useState('09:00');
  const [to, setTo] = useState('17:00');
  const [days, setDays] = useState([1, 2, 3, 4, 5]);
  const [landingPage, setLandingPage] = useState(true);
  const [dryRun, setDryRun] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const target = groups.find((g) => g.id === group);
  const create = useAction(async () => {
    const r = await post(AwarenessCreated, '/api/awareness/campaigns', {
      name,
      group,
      templates: chosen,
      window: { start: instant(start), end: instant(end), from, to, days },
      landingPage,
      dryRun,
    });
    setConfirming(false);
    setDone(`${name} is planned: ${people(r.targets)} will get a message${dryRun ? ' (dry run: nothing is sent)' : ''}.`);
    setName('');
    setChosen([]);
    onDone();
    return r;
  });
  const toggle = <T,>(list: T[], v: T) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
  const ready = name.trim() && group && chosen.length > 0 && start && end && days.length > 0;
  return (
    <form
      className="card"
      aria-labelledby="new-campaign"
      onSubmit={(e) => {
        e.preventDefault();
        setDone(null);
        setConfirming(true);
      }}
    >
      <h2 id="new-campaign">New campaign</h2>
      <ErrorNote error={templates.error} />
      {done ? <p role="status">{done}</p> : null}
      <label>
        Campaign name <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      </label>
      <label>
        Group{' '}
        <select value={group} onChange={(e) => setGroup(e.target.value)} required>
          <option value="">Choose…</option>
          {groups.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name} ({people(g.members)})
            </option>
          ))}
        </select>
      </label>
      {groups.length === 0 ? <p className="muted">Make a group first (below).</p> : null}
      <fieldset>
        <legend>Messages (each person gets one of them)</legend>
        {(templates.data ?? []).map((t) => (
          <label key={t.id} className="check">
            <input type="checkbox" checked={chosen.includes(t.id)} onChange={() => setChosen(toggle(chosen, t.id))} /> {t.name}{' '}
            <span className="muted">({DIFFICULTY[t.difficulty]})</span>
          </label>
        ))}
      </fieldset>
      <div className="row">
        <label>
          Sending starts <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required />
        </label>
        <label>
          Sending ends <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} required />
        </label>
      </div>
      <fieldset>
        <legend>Business hours, in each person&apos;s time zone</legend>
        <label>
          From <input type="time" value={from} onChange={(e) => setFrom(e.target.value)} required />
        </label>{' '}
        <label>
          Until <input type="time" value={to} onChange={(e) => setTo(e.target.value)} required />
        </label>
        <div>
          {WEEKDAYS.map((d, i) => (
            <label key={d} className="check">
              <input type="checkbox" checked={days.includes(i + 1)} onChange={() => setDays(toggle(days, i + 1).sort())} /> {d}
            </label>
          ))}
        </div>
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={landingPage} onChange={(e) => setLandingPage(e.target.checked)} /> Show an imitation page after a click (otherwise the
        lesson at once)
      </label>
      <label className="check">
        <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run: plan and record everything, send nothing
      </label>
      <button type="submit" className="primary" disabled={!ready}>
        Create…
      </button>
      <Dialog title={`Create ${name || 'the campaign'}`} open={confirming} onClose={() => setConfirming(false)}>
        <p>
          {target ? `${people(target.members)} in ${target.name}` : 'The group'} will each get one of {chosen.length} message{chosen.length === 1 ? '' : 's'},
          at random times between {when(instant(start))} and {when(instant(end))}, {from}–{to} in their own time zone.
        </p>
        {dryRun ? <p>Dry run: no message will actually be sent.</p> : <p>The messages go out through the clinic&apos;s mail relay as they fall due.</p>}
        <ErrorNote error={create.error} />
        <div className="actions">
          <button type="button" className="primary" disabled={create.busy} onClick={() => void create.run()}>
            Create the campaign
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </form>
  );
}
