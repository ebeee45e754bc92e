/**
 * Groups for campaigns, kept simple: a name and the departments whose people belong to it (as they
 * are when the group is made). The departments offered are those of the people Carewall knows,
 * from the accounts (brought in on demand) and from staff files.
 */
import { useState } from 'react';
import { AwarenessGroup, AwarenessPeople, AwarenessSynced } from '../../../src/api/index.js';
import { get, post, postFile } from '../api';
import { ErrorNote, useAction, useLoad } from '../ui';
import { people as count } from './awarenessWords';

export function NewGroup({ onDone }: { onDone: () => void }) {
  const people = useLoad(() => get(AwarenessPeople, '/api/awareness/people'), []);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [said, setSaid] = useState<string | null>(null);
  const counts = new Map<string, number>();
  for (const p of people.data ?? []) if (p.active) counts.set(p.department || 'No department', (counts.get(p.department || 'No department') ?? 0) + 1);
  const departments = [...counts.keys()].sort((a, b) => a.localeCompare(b));
  const create = useAction(async () => {
    const g = await post(AwarenessGroup, '/api/awareness/groups', { name, departments: chosen.map((d) => (d === 'No department' ? '' : d)) });
    setSaid(`${g.name} made: ${g.members} people.`);
    setName('');
    setChosen([]);
    onDone();
  });
  const [staffFile, setStaffFile] = useState<File | null>(null);
  const importFile = useAction(async () => {
    const r = await postFile(AwarenessSynced, '/api/awareness/people/import', staffFile!, 'text/csv');
    setSaid(`From the staff file: ${r.added} added, ${r.updated} updated.`);
    people.reload();
  });
  const sync = useAction(async () => {
    const r = await post(AwarenessSynced, '/api/awareness/people/sync');
    setSaid(`From the staff accounts: ${r.added} added, ${r.updated} updated.`);
    people.reload();
  });
  return (
    <form
      className="card"
      aria-labelledby="new-group"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h2 id="new-group">New group</h2>
      <ErrorNote error={people.error ?? create.error ?? sync.error ?? importFile.error} />
      {said ? <p role="status">{said}</p> : null}
      <label>
        Group name <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      </label>
      <fieldset>
        <legend>Departments</legend>
        {departments.length === 0 ? <p className="muted">Nobody is known yet: bring in the staff accounts, or import a staff file.</p> : null}
        {departments.map((d) => (
          <label key={d} className="check">
            <input
              type="checkbox"
              checked={chosen.includes(d)}
              onChange={() => setChosen(chosen.includes(d) ? chosen.filter((x) => x !== d) : [...chosen, d])}
            />{' '}
            {d} <span className="muted">({count(counts.get(d) ?? 0)})</span>
          </label>
        ))}
      </fieldset>
      <div className="actions">
        <button type="submit" className="primary" disabled={create.busy || !name.trim() || chosen.length === 0}>
          Create the group
        </button>
        <button type="button" disabled={sync.busy} onClick={() => void sync.run()}>
          Bring in the staff accounts
        </button>
      </div>
      <p className="muted">
        Or import a staff file: CSV with the columns email, first_name, last_name, department, position, time_zone (a file with the same addresses updates
        them).
      </p>
      <div className="inline">
        <label>
          Staff file (CSV) <input type="file" accept=".csv,text/csv" onChange={(e) => setStaffFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="button" disabled={!staffFile || importFile.busy} onClick={() => void importFile.run()}>
          Import the staff file
        </button>
      </div>
    </form>
  );
}
