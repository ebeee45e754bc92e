import type { ExtractResource, ResourceType } from '@medplum/fhirtypes';
import { useState } from 'react';
import type { Me } from '../../../src/api/index.js';
import { GrantOpened } from '../../../src/api/index.js';
import { ApiError, fhirRead, fhirSearch, nameOf, post } from '../api';
import { Countdown, day, Dialog, ErrorNote, Heads, Loading, useLoad, when } from '../ui';
import { ageOf, label } from './clinicalWords';
import { Observations } from './observations';
import { BREAK_GLASS_REASONS } from '../people';

/** A patient's chart, or, when the rules refuse it, why and how to get access (nothing of the patient). */
export function Chart({ id, me }: { id: string; me: Me }) {
  const [grant, setGrant] = useState<{ expiresAt: string } | null>(null);
  const [tick, setTick] = useState(0);
  const patient = useLoad(() => fhirRead('Patient', `/fhir/Patient/${id}`), [id, tick]);
  const refused = patient.error instanceof ApiError && (patient.error.status === 403 || patient.error.status === 404);
  if (patient.loading && !patient.data) return <Loading when />;
  if (refused) return <Refused id={id} me={me} onGranted={(g) => (setGrant(g), setTick((t) => t + 1))} />;
  if (patient.error) return <ErrorNote error={patient.error} />;
  const p = patient.data!;
  return (
    <article aria-labelledby="chart-title">
      <header className="chart-head">
        <h1 id="chart-title">{nameOf(p.name)}</h1>
        <dl className="facts">
          <div>
            <dt>Born</dt>
            <dd>
              {day(p.birthDate)}
              {ageOf(p.birthDate) ? ` (age ${ageOf(p.birthDate)})` : ''}
            </dd>
          </div>
          <div>
            <dt>Sex</dt>
            <dd>{p.gender ?? '—'}</dd>
          </div>
          <div>
            <dt>Record number</dt>
            <dd>{(p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR')) ?? p.identifier?.[0])?.value ?? p.id ?? '—'}</dd>
          </div>
          <div>
            <dt>Phone</dt>
            <dd>{p.telecom?.find((t) => t.system === 'phone')?.value ?? '—'}</dd>
          </div>
          <div>
            <dt>Address</dt>
            <dd>{p.address?.[0] ? [p.address[0].line?.join(', '), p.address[0].postalCode, p.address[0].city].filter(Boolean).join(', ') : '—'}</dd>
          </div>
        </dl>
        {grant ? (
          <p className="banner warn" role="status">
            Emergency access: this chart is open under break-the-glass for <Countdown until={grant.expiresAt} onEnd={() => setTick((t) => t + 1)} />. Every view
            is recorded and will be reviewed.
          </p>
        ) : null}
      </header>
      <div className="grid">
        <Section
          title="Problems"
          type="Condition"
          patient={id}
          render={(c) => [label(c.code), label(c.clinicalStatus), day(c.onsetDateTime)]}
          heads={['Problem', 'Status', 'Onset']}
        />
        <Section
          title="Allergies"
          type="AllergyIntolerance"
          patient={id}
          render={(a) => [label(a.code), a.criticality ?? '—']}
          heads={['Substance', 'Criticality']}
        />
        <Section
          title="Medications"
          type="MedicationRequest"
          patient={id}
          render={(m) => [label(m.medicationCodeableConcept), m.status ?? '—', day(m.authoredOn)]}
          heads={['Medication', 'Status', 'Prescribed']}
        />
        <Section
          title="Encounters"
          type="Encounter"
          patient={id}
          render={(e) => [e.class?.display ?? e.class?.code ?? '—', e.status ?? '—', when(e.period?.start)]}
          heads={['Kind', 'Status', 'Start']}
        />
        <Section
          title="Documents"
          type="DocumentReference"
          patient={id}
          render={(d) => [label(d.type), d.description ?? '—', day(d.date)]}
          heads={['Type', 'Description', 'Date']}
        />
      </div>
      <Observations patient={id} />
    </article>
  );
}

interface SectionProps<K extends ResourceType> {
  title: string;
  type: K;
  patient: string;
  render: (r: ExtractResource<K>) => string[];
  heads: string[];
}

function Section<K extends ResourceType>({ title, type, patient, render, heads }: SectionProps<K>) {
  const { data, error, loading } = useLoad(() => fhirSearch(type, `/fhir/Patient/${patient}/${type}?_count=50`), [patient, type]);
  const rows = data?.resources ?? [];
  return (
    <section className="card" aria-labelledby={`h-${type}`}>
      <h2 id={`h-${type}`}>{title}</h2>
      <Loading when={loading && !data} />
      {error ? (
        <p className="muted">
          {error instanceof ApiError && error.status === 403 ? 'Not shown: your role or the patient’s consent does not allow this section.' : error.message}
        </p>
      ) : null}
      {data && rows.length === 0 ? <p className="muted">No {title.toLowerCase()} recorded.</p> : null}
      {rows.length > 0 ? (
        <table>
          <Heads cols={heads} />
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {render(r).map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

/** A refused chart: why, and the two ways to access, without a word about the patient. */
function Refused({ id, me, onGranted }: { id: string; me: Me; onGranted: (g: { expiresAt: string }) => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState(BREAK_GLASS_REASONS[0][0]);
  const [justification, setJustification] = useState('');
  const [error, setError] = useState<string | null>(null);
  const clinical = me.roles.some((r) => r === 'physician' || r === 'nurse');
  const submit = async () => {
    setError(null);
    try {
      const g = await post(GrantOpened, '/api/break-glass', { patient: id, reason, justification });
      setOpen(false);
      onGranted(g);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section className="refused" aria-labelledby="refused-title">
      <h1 id="refused-title">Access to this chart is refused</h1>
      <p>
        Nothing links you to this patient: no care team, encounter, appointment, ward admission or order names you, so the access rules do not let you see the
        record. This attempt has been recorded.
      </p>
      <h2>How to get access</h2>
      <ul>
        <li>If you are treating this patient, ask the care team or the ward to add you; access follows at once.</li>
        {clinical ? (
          <li>In an emergency, break the glass: you get the chart for a limited time, and a privacy officer reviews why.</li>
        ) : (
          <li>Your role cannot break the glass; ask a clinician or your manager.</li>
        )}
      </ul>
      {clinical ? (
        <button type="button" className="danger" onClick={() => setOpen(true)}>
          Break the glass…
        </button>
      ) : null}
      <Dialog title="Emergency access (break the glass)" open={open} onClose={() => setOpen(false)}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <p>Your access will be time-limited, recorded and reviewed by a privacy officer.</p>
          <label>
            Reason
            <select value={reason} onChange={(e) => setReason(e.target.value)}>
              {BREAK_GLASS_REASONS.map(([code, text]) => (
                <option key={code} value={code}>
                  {text}
                </option>
              ))}
            </select>
          </label>
          <label>
            Justification
            <textarea value={justification} onChange={(e) => setJustification(e.target.value)} required minLength={10} rows={3} />
          </label>
          <ErrorNote error={error} />
          <div className="actions">
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="danger">
              Open the chart
            </button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
