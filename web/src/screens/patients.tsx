import { useState } from 'react';
import { MyPatients as MyPatientList } from '../../../src/api/index.js';
import { get } from '../api';
import { Link } from '../router';
import { day, ErrorNote, Heads, Loading, Pager, useLoad } from '../ui';
import { EmergencyLookup } from './lookup';

const PAGE = 25;

/**
 * The patients the access rules let the caller see, each with the relationship that lets them; for
 * clinicians, the emergency look-up of anyone too.
 */
export function MyPatients({ clinician }: { clinician: boolean }) {
  const [name, setName] = useState('');
  const [query, setQuery] = useState('');
  const [offset, setOffset] = useState(0);
  const { data, error, loading } = useLoad(
    () => get(MyPatientList, `/api/my-patients?count=${PAGE}&offset=${offset}${query ? `&name=${encodeURIComponent(query)}` : ''}`),
    [offset, query],
  );
  return (
    <section>
      <h1>My patients</h1>
      <form
        className="inline"
        role="search"
        aria-label="search my patients"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setQuery(name.trim());
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="family or given name" />
        </label>
        <button type="submit">Search</button>
      </form>
      {/* At the bedside the emergency path comes first: above a long list, not below it (a phone shows a few rows). */}
      {clinician ? <EmergencyLookup /> : null}
      <ErrorNote error={error} />
      <Loading when={loading && !data} />
      {data ? (
        <>
          <table>
            <caption className="sr-only">Patients you may see, and why</caption>
            <Heads cols={['Patient', 'Born', 'Sex', 'Why you see this patient']} />
            <tbody>
              {data.patients.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`/patients/${p.id}`}>{p.name || p.id}</Link>
                  </td>
                  <td>{day(p.birthDate)}</td>
                  <td>{p.gender ?? '—'}</td>
                  <td>
                    {p.why.map((w) => (
                      <span className="chip" key={w}>
                        {w}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
              {data.patients.length === 0 ? (
                <tr>
                  <td colSpan={4} className="muted">
                    {query
                      ? `No patient you may see is called “${query}”.`
                      : 'No patients: none is linked to you by a care team, encounter, appointment, ward or order.'}
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
          <Pager what="Patients" offset={offset} count={PAGE} total={data.total} onChange={setOffset} />
        </>
      ) : null}
    </section>
  );
}
