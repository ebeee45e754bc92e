/**
 * A clinician's emergency look-up of any patient: who they are (name, birth date, record number),
 * never their chart. A result opens the chart, or, when the rules refuse it, the refused chart with
 * its break-the-glass button: two clicks from the result. Every look-up is recorded.
 */
import { useState } from 'react';
import { PatientLookup } from '../../../src/api/index.js';
import { get } from '../api';
import { Link } from '../router';
import { day, ErrorNote, Heads } from '../ui';

export function EmergencyLookup() {
  const [q, setQ] = useState('');
  const [result, setResult] = useState<PatientLookup | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const find = async () => {
    setError(null);
    setBusy(true);
    try {
      setResult(await get(PatientLookup, `/api/patients/lookup?q=${encodeURIComponent(q.trim())}`));
    } catch (err) {
      setResult(null);
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="h-lookup">
      <h2 id="h-lookup">Find any patient (emergency)</h2>
      <p className="muted">
        For a patient not on your list: search by name (3 letters or more), full birth date (YYYY-MM-DD) or record number. You see only who they are; opening
        the chart needs access or breaking the glass. Each search is recorded.
      </p>
      <form
        className="inline"
        role="search"
        aria-label="Find any patient"
        onSubmit={(e) => {
          e.preventDefault();
          void find();
        }}
      >
        <label>
          Name, birth date or record number
          <input value={q} onChange={(e) => setQ(e.target.value)} required />
        </label>
        <button type="submit" disabled={busy}>
          Find
        </button>
      </form>
      <ErrorNote error={error} />
      {result ? (
        <table>
          <caption className="sr-only">People matching the search</caption>
          <Heads cols={['Patient', 'Born', 'Record number']} />
          <tbody>
            {result.patients.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link to={`/patients/${p.id}`}>{p.name}</Link>
                </td>
                <td>{day(p.birthDate)}</td>
                <td>{p.mrn ?? '—'}</td>
              </tr>
            ))}
            {result.patients.length === 0 ? (
              <tr>
                <td colSpan={3} className="muted">
                  No one matches. Check the spelling, or try the birth date or record number.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      ) : null}
      {result && result.patients.length === 20 ? <p className="muted">Only the first 20 are shown: add to the search to narrow it.</p> : null}
    </section>
  );
}
