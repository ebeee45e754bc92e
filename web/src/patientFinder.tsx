/**
 * Finding a patient by name, full birth date or record number (GET /api/patients/lookup, recorded),
 * for a privacy officer's access report: who they are, never their chart.
 */
import { useState } from 'react';
import { PatientLookup } from '../../src/api/index.js';
import { get } from './api';
import { day, ErrorNote } from './ui';

export type FoundPatient = PatientLookup['patients'][number];

export function PatientFinder({ onChoose }: { onChoose: (p: FoundPatient) => void }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<FoundPatient[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const find = async () => {
    setError(null);
    try {
      setFound((await get(PatientLookup, `/api/patients/lookup?q=${encodeURIComponent(q.trim())}`)).patients);
    } catch (err) {
      setFound(null);
      setError(err as Error);
    }
  };
  return (
    <div className="no-print">
      <form
        className="inline"
        role="search"
        aria-label="find a patient"
        onSubmit={(e) => {
          e.preventDefault();
          void find();
        }}
      >
        <label>
          Patient (name, birth date or record number)
          <input value={q} onChange={(e) => setQ(e.target.value)} required minLength={2} />
        </label>
        <button type="submit">Find</button>
      </form>
      <ErrorNote error={error} />
      {found && found.length === 0 ? <p className="muted">Nobody matches.</p> : null}
      {found && found.length > 0 ? (
        <ul className="plain">
          {found.map((p) => (
            <li key={p.id}>
              <button type="button" onClick={() => onChoose(p)} aria-label={`choose ${p.name}, born ${p.birthDate ? day(p.birthDate) : 'unknown'}`}>
                {p.name}
              </button>{' '}
              <span className="muted">
                born {p.birthDate ? day(p.birthDate) : 'unknown'}
                {p.mrn ? `, record number ${p.mrn}` : ''}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
