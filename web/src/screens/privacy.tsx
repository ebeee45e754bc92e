import { useState } from 'react';
import { AccessReport as AccessReportShape, AuditVerification, GrantList, type GrantSummary, type ReviewBody } from '../../../src/api/index.js';
import { get, getText, post, send } from '../api';
import { PatientFinder, type FoundPatient } from '../patientFinder';
import { patientInWords, reasonInWords, rolesInWords } from '../people';
import { whatInWords, whoInWords, whyInWords } from '../reportWords';
import { useSortable } from '../sortable';
import { Link } from '../router';
import { day, Dialog, ErrorNote, Loading, useAction, useLoad, when } from '../ui';

/** Break-the-glass grants waiting for a privacy officer's decision, with what was done under them. */
export function ReviewQueue() {
  const [status, setStatus] = useState<'unreviewed' | 'reviewed' | 'all'>('unreviewed');
  const { data, error, loading, reload } = useLoad(() => get(GrantList, `/api/break-glass?status=${status}`), [status]);
  const [ended, setEnded] = useState<string | null>(null);
  return (
    <section>
      <h1>Break-the-glass review</h1>
      <label>
        Show
        <select value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
          <option value="unreviewed">Waiting for review</option>
          <option value="reviewed">Reviewed</option>
          <option value="all">All</option>
        </select>
      </label>
      <ErrorNote error={error} />
      <Loading when={loading && !data} />
      {ended ? (
        <div className="banner warn" role="status">
          <p>
            The emergency access of {ended} was found inappropriate: the grant has ended and the finding is recorded. To investigate further, open a case from
            the alerts in <Link to="/privacy/cases">Alerts and cases</Link>.
          </p>
        </div>
      ) : null}
      {data && data.grants.length === 0 ? (
        <p className="muted">
          {status === 'unreviewed'
            ? 'No emergency accesses wait for review.'
            : status === 'reviewed'
              ? 'No emergency access has been reviewed yet.'
              : 'No one has used an emergency access yet.'}
        </p>
      ) : null}
      <ul className="cards">
        {data?.grants.map((g) => (
          <GrantCard
            key={g.id}
            grant={g}
            onReviewed={(decision) => {
              setEnded(decision === 'inappropriate' ? (g.user?.name ?? g.username) : null);
              reload();
            }}
          />
        ))}
      </ul>
    </section>
  );
}

/** The shortest note that explains a finding of inappropriate access (the server's rule, access/grants.ts). */
const NOTE_MIN = 10;

function GrantCard({ grant: g, onReviewed }: { grant: GrantSummary; onReviewed: (decision: 'appropriate' | 'inappropriate') => void }) {
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const review = async (decision: 'appropriate' | 'inappropriate') => {
    setError(null);
    try {
      await send(`/api/break-glass/${g.id}/review`, { body: { decision, note } satisfies ReviewBody });
      setConfirming(false);
      onReviewed(decision);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const userName = g.user?.name ?? g.username;
  const patientName = g.patientIdentity?.name ?? `the patient with record ${g.patient}`;
  return (
    <li className="card" aria-label={`emergency access by ${userName}`}>
      <h2>
        {userName} opened the chart of {patientName}
      </h2>
      <dl className="facts">
        <div>
          <dt>By</dt>
          <dd>
            {userName}
            {g.user ? ` (${rolesInWords(g.user.roles)})` : ''} <span className="muted">user name {g.username}</span>
          </dd>
        </div>
        <div>
          <dt>Patient</dt>
          <dd>{g.patientIdentity ? patientInWords(g.patientIdentity) : `record ${g.patient}`}</dd>
        </div>
        <div>
          <dt>Reason</dt>
          <dd>{reasonInWords(g.reason)}</dd>
        </div>
        <div>
          <dt>Justification</dt>
          <dd>{g.justification}</dd>
        </div>
        <div>
          <dt>Opened</dt>
          <dd>{when(g.startedAt)}</dd>
        </div>
        <div>
          <dt>Ends</dt>
          <dd>
            {when(g.expiresAt)} {g.active ? '(active)' : ''}
          </dd>
        </div>
        <div>
          <dt>Accesses under it</dt>
          <dd>{g.uses.length}</dd>
        </div>
      </dl>
      {g.review ? (
        <p>
          Reviewed by {g.reviewerName ?? g.review.by} on {when(g.review.at)}: <strong>{g.review.decision}</strong>. {g.review.note}
        </p>
      ) : (
        <form onSubmit={(e) => e.preventDefault()}>
          <label>
            Review note
            <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} />
          </label>
          <ErrorNote error={error} />
          <div className="actions">
            <button type="button" onClick={() => void review('appropriate')}>
              Appropriate
            </button>
            <button type="button" className="danger" onClick={() => (setError(null), setConfirming(true))}>
              Inappropriate…
            </button>
          </div>
        </form>
      )}
      {confirming ? (
        <Dialog title={`Find ${userName}'s emergency access inappropriate`} open onClose={() => setConfirming(false)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void review('inappropriate');
            }}
          >
            <p>
              The grant ends at once{g.active ? ` (it was open until ${when(g.expiresAt)})` : ''}, every access under it is marked inappropriate, and the
              finding is recorded in the audit log. Say why: the note is kept with the finding.
            </p>
            <label>
              Why the access was inappropriate (at least {NOTE_MIN} characters)
              <textarea value={note} onChange={(e) => setNote(e.target.value)} required minLength={NOTE_MIN} rows={3} />
            </label>
            <ErrorNote error={error} />
            <div className="actions">
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
              <button type="submit" className="danger">
                End the access and record the finding
              </button>
            </div>
          </form>
        </Dialog>
      ) : null}
    </li>
  );
}

/** Who accessed one patient's record, when, in which role and why; printable for the patient. */
export function AccessReport() {
  const [patient, setPatient] = useState('');
  const [asked, setAsked] = useState<string | null>(null);
  const [chosen, setChosen] = useState<FoundPatient | null>(null);
  const { data, error, loading } = useLoad(
    () => (asked ? get(AccessReportShape, `/api/patients/${encodeURIComponent(asked)}/access-report`) : Promise.resolve(undefined)),
    [asked],
  );
  type Person = AccessReportShape['byUser'][number];
  type Line = AccessReportShape['accesses'][number];
  const people = useSortable<Person>(data?.byUser, [
    { label: 'Person', sortBy: whoInWords },
    { label: 'Times allowed', sortBy: (u) => u.accesses },
    { label: 'Times refused', sortBy: (u) => u.refused },
    { label: 'First', sortBy: (u) => u.first },
    { label: 'Last', sortBy: (u) => u.last },
  ]);
  const lines = useSortable<Line>(data?.accesses.slice(0, 500), [
    { label: 'When', sortBy: (a) => a.time },
    { label: 'Who', sortBy: whoInWords },
    { label: 'What they did', sortBy: whatInWords },
    { label: 'Why', sortBy: whyInWords },
    { label: 'Audit record', sortBy: (a) => a.record, className: 'no-print' },
  ]);
  return (
    <section>
      <h1>Access report</h1>
      <PatientFinder
        onChoose={(p) => {
          setChosen(p);
          setPatient(p.id);
          setAsked(p.id);
        }}
      />
      <form
        className="inline no-print"
        onSubmit={(e) => {
          e.preventDefault();
          setChosen(null);
          setAsked(patient.trim().replace(/^Patient\//, ''));
        }}
      >
        <label>
          Patient id
          <input value={patient} onChange={(e) => setPatient(e.target.value)} required />
        </label>
        <button type="submit" className="primary">
          Make report
        </button>
      </form>
      <ErrorNote error={error} />
      <Loading when={loading && asked !== null} />
      {data ? (
        <div className="report">
          <p>
            Everyone who opened, searched or changed the record of{' '}
            <strong>
              {chosen && chosen.id === asked
                ? `${chosen.name} (born ${chosen.birthDate ? day(chosen.birthDate) : 'unknown'}${chosen.mrn ? `, record number ${chosen.mrn}` : ''})`
                : data.patient}
            </strong>
            , as recorded in the clinic&apos;s tamper-evident audit log. Made {when(data.generated)}: {data.total} {data.total === 1 ? 'access' : 'accesses'}.
            If anything here looks wrong to you, tell the clinic&apos;s privacy officer.
          </p>
          <button type="button" className="no-print" onClick={() => window.print()}>
            Print for the patient
          </button>
          <h2>Who</h2>
          <table>
            {people.heads}
            <tbody>
              {people.rows.map((u) => (
                <tr key={u.user}>
                  <td>{whoInWords(u)}</td>
                  <td>{u.accesses}</td>
                  <td>{u.refused}</td>
                  <td>{day(u.first)}</td>
                  <td>{day(u.last)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Every access</h2>
          <table>
            {lines.heads}
            <tbody>
              {lines.rows.map((a) => (
                <tr key={a.record}>
                  <td>{when(a.time)}</td>
                  <td>{whoInWords(a)}</td>
                  <td>{whatInWords(a)}</td>
                  <td>{whyInWords(a)}</td>
                  <td className="no-print">{a.record}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** The latest signed checkpoint, and a full verification on demand. */
export function LogHealth() {
  const checkpoint = useLoad(() => getText('/api/audit/checkpoint'), []);
  const verify = useAction(() => post(AuditVerification, '/api/audit/verify'));
  const result = verify.result;
  const size = checkpoint.data?.split('\n')[1];
  return (
    <section>
      <h1>Audit log health</h1>
      <div className="card">
        <h2>Latest signed checkpoint</h2>
        <ErrorNote error={checkpoint.error} />
        {checkpoint.data ? (
          <>
            <p>
              <strong>{size}</strong> records are covered by the log&apos;s signature.
            </p>
            <pre className="note" aria-label="checkpoint text">
              {checkpoint.data}
            </pre>
          </>
        ) : null}
      </div>
      <div className="card">
        <h2>Verification</h2>
        <p>Recomputes the whole tree from the stored records and checks every signed checkpoint.</p>
        <button type="button" className="primary" disabled={verify.busy} onClick={() => void verify.run()}>
          {verify.busy ? 'Verifying…' : 'Verify now'}
        </button>
        <ErrorNote error={verify.error} />
        {result ? (
          <p role="status" className={result.ok ? 'ok' : 'error'}>
            {result.ok
              ? `Verified ${when(result.at)}: all ${result.size} records and ${result.checkpointsChecked} checkpoints hold (${result.seconds.toFixed(1)} s).`
              : `Verification FAILED ${when(result.at)}${result.firstBadIndex !== null ? `: first bad record ${result.firstBadIndex}` : ''}. ${result.problems.join(' ')}`}
          </p>
        ) : null}
      </div>
    </section>
  );
}
