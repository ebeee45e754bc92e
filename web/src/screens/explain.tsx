import { useState } from 'react';
import { Explanation } from '../../../src/api/index.js';
import { get } from '../api';
import { PatientFinder, type FoundPatient } from '../patientFinder';
import { patientInWords } from '../people';
import { findPerson, NO_SUCH_PERSON, StaffPicker, useStaffDirectory } from '../staff';
import { ErrorNote, Loading, useLoad } from '../ui';

/**
 * "Can this user see this patient, and why?" A privacy officer finds the patient by name; an
 * administrator, who sees no patient data, asks by the patient's id.
 */
export function Explain({ canFindPatients }: { canFindPatients: boolean }) {
  const [chosen, setChosen] = useState<FoundPatient | null>(null);
  const [user, setUser] = useState('');
  const [patient, setPatient] = useState('');
  const [asked, setAsked] = useState<{ user: string; patient: string } | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const { staff, loaded: staffLoaded } = useStaffDirectory();
  const { data, error, loading } = useLoad(
    () =>
      asked
        ? get(Explanation, `/api/access/explain?user=${encodeURIComponent(asked.user)}&patient=${encodeURIComponent(asked.patient)}`)
        : Promise.resolve(undefined),
    [asked],
  );
  return (
    <section>
      <h1>Explain access</h1>
      {canFindPatients ? (
        <PatientFinder
          onChoose={(p) => {
            setChosen(p);
            setPatient(p.id);
          }}
        />
      ) : null}
      {chosen ? <p role="status">Patient: {patientInWords(chosen)}.</p> : null}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          // Found by name or user name; the question is asked of the account.
          const person = findPerson(staff, user);
          setFormError(person ? null : NO_SUCH_PERSON);
          if (person) setAsked({ user: person.username, patient: patient.trim().replace(/^Patient\//, '') });
        }}
      >
        <StaffPicker label="Staff member" value={user} onChange={setUser} staff={staff} required />
        <label>
          {canFindPatients ? 'Patient id (or find the patient by name above)' : 'Patient id'}
          <input value={patient} onChange={(e) => (setChosen(null), setPatient(e.target.value))} required />
        </label>
        <button type="submit" className="primary" disabled={!staffLoaded} title={staffLoaded ? undefined : 'The staff list is still loading'}>
          Explain
        </button>
      </form>
      <ErrorNote error={formError} />
      <ErrorNote error={error} />
      <Loading when={loading && asked !== null} />
      {data ? (
        <div className={`card ${data.allowed ? 'ok' : 'refusal'}`} role="status">
          <h2>{data.allowed ? 'Allowed' : 'Refused'}</h2>
          <p>{data.reason}</p>
          {data.grounds?.relationships?.length ? (
            <ul>
              {data.grounds.relationships.map((r, i) => (
                <li key={i}>
                  {r.kind.replace(/-/g, ' ')}
                  {r.direct ? '' : ', through a team or ward they belong to'}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
