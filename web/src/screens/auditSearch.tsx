/**
 * Audit search for privacy officers: AuditEvents by patient, staff member (by name), date, action and
 * outcome, newest first, a page at a time, and the whole result as CSV.
 */
import { useState } from 'react';
import { PatientLookup } from '../../../src/api/index.js';
import { fhirSearch, get } from '../api';
import { csvText } from '../csv';
import { PatientFinder, type FoundPatient } from '../patientFinder';
import { patientInWords } from '../people';
import { findPerson, nameOf, NO_SUCH_PERSON, StaffPicker, useStaffDirectory, type Person } from '../staff';
import { ErrorNote, Heads, Loading, Pager, useLoad, when } from '../ui';

const PAGE = 50;
/** The most a download holds: a privacy officer's question, not a copy of the log (carewall audit verify has that). */
const DOWNLOAD_MAX = 5000;

/** AuditEvent outcomes in words (FHIR's codes 0, 4, 8, 12). */
const OUTCOMES: Record<string, string> = { '0': 'success', '4': 'refused or failed', '8': 'failed seriously', '12': 'failed badly' };

type AuditEventRow = Awaited<ReturnType<typeof fhirSearch<'AuditEvent'>>>['resources'][number];

type Staff = Person[];

/** What was done, as a colleague says it (the records' subtypes: FHIR's interactions, DICOM's events, Carewall's own). */
const WHAT: Record<string, string> = {
  read: 'read',
  vread: 'read an earlier version of',
  'search-type': 'searched',
  'history-instance': 'read the history of',
  create: 'created',
  update: 'changed',
  delete: 'deleted',
  lookup: 'looked up who a patient is',
  Login: 'signed in',
  Logout: 'signed out',
  'Emergency Override Started': 'broke the glass (emergency access)',
  export: 'exported',
  print: 'printed',
  'break-glass.review': 'reviewed an emergency access',
  'investigation.start': 'opened a privacy investigation',
  'investigation.review': 'reviewed a privacy investigation',
  'flagged-access.review': 'reviewed a flagged access',
  // Records of the audit log's own use carry only their type (DICOM's "Audit Log Used").
  'Audit Log Used': "read the audit log (a search or a patient's access report)",
};

/** The part of a record a line is about, in words; the resource type itself when not listed. */
const PARTS: Record<string, string> = {
  Patient: 'personal details',
  Observation: 'a test result or measurement',
  DiagnosticReport: 'a test report',
  Condition: 'a diagnosis',
  MedicationRequest: 'a prescription',
  AllergyIntolerance: 'an allergy',
  Procedure: 'a procedure',
  Encounter: 'a visit',
  Appointment: 'an appointment',
  ServiceRequest: 'an order',
  CareTeam: 'a care team',
  DocumentReference: 'a document',
  Consent: 'a consent',
  EpisodeOfCare: 'a course of care',
};

const patientIdOf = (e: AuditEventRow) => e.entity?.find((x) => x.what?.reference?.startsWith('Patient/'))?.what?.reference?.slice('Patient/'.length);

/** The patients these records name, by id (GET /api/patients/identify, 100 at a time; each one named is recorded). */
async function patientsOf(events: AuditEventRow[]): Promise<Map<string, FoundPatient>> {
  const ids = [...new Set(events.map(patientIdOf).filter((id): id is string => Boolean(id)))];
  const out = new Map<string, FoundPatient>();
  for (let i = 0; i < ids.length; i += 100) {
    for (const p of (await get(PatientLookup, `/api/patients/identify?ids=${ids.slice(i, i + 100).join(',')}`)).patients) out.set(p.id, p);
  }
  return out;
}

/** One audit record as the table and the download show it: people by name, words, not codes. */
function auditRow(
  e: AuditEventRow,
  staff: Staff,
  patients: Map<string, FoundPatient>,
): { when: string; user: string; what: string; patient: string; outcome: string } {
  const who = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  const code = e.subtype?.[0]?.code ?? '';
  const display = e.subtype?.[0]?.display ?? e.type?.display ?? '';
  const verb = WHAT[code] ?? WHAT[display] ?? (display || code).replace(/[-.]/g, ' ');
  const type = e.entity?.map((x) => x.what?.reference?.split('/')[0]).find((t) => t && t !== 'Patient') ?? (code === 'read' ? 'Patient' : undefined);
  const patientId = patientIdOf(e);
  const patient = patientId ? patients.get(patientId) : undefined;
  return {
    when: e.recorded ?? '',
    user: nameOf(staff, who?.who?.display, who?.who?.reference),
    what:
      (type && /^(read|created|changed|deleted|searched|read the history of|read an earlier version of)$/.test(verb)
        ? `${verb} ${PARTS[type] ?? type}`
        : verb) || '—',
    patient: patient ? patientInWords(patient) : patientId ? `a patient no longer on record (${patientId})` : '—',
    outcome: OUTCOMES[e.outcome ?? ''] ?? e.outcome ?? '—',
  };
}

/** AuditEvents by patient, user, date, action and outcome, a page at a time. */
export function AuditSearch() {
  const [form, setForm] = useState({ patient: '', agent: '', from: '', to: '', action: '', outcome: '' });
  const [query, setQuery] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  // Newest first unless asked otherwise: an investigation starts from what happened last.
  const [newestFirst, setNewestFirst] = useState(true);
  const [downloadNote, setDownloadNote] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  // The patient picked by name (the id field holds their id); cleared when the id is typed over.
  const [chosen, setChosen] = useState<FoundPatient | null>(null);
  const { staff, loaded: staffLoaded } = useStaffDirectory();
  const sort = newestFirst ? '-date' : 'date';
  const { data, error, loading } = useLoad(async () => {
    if (query === null) return undefined;
    const page = await fhirSearch('AuditEvent', `/fhir/AuditEvent?${query}&_sort=${sort}&_count=${PAGE}&_offset=${offset}`);
    return { ...page, patients: await patientsOf(page.resources) };
  }, [query, offset, sort]);
  const download = async () => {
    if (query === null) return;
    const rows: AuditEventRow[] = [];
    let total = 0;
    for (let at = 0; at < DOWNLOAD_MAX; at += 1000) {
      const page = await fhirSearch('AuditEvent', `/fhir/AuditEvent?${query}&_sort=${sort}&_count=1000&_offset=${at}`);
      total = page.total ?? rows.length + page.resources.length;
      rows.push(...page.resources);
      if (page.resources.length < 1000 || rows.length >= total) break;
    }
    const table = [['When', 'User', 'What', 'Patient', 'Outcome']];
    const patients = await patientsOf(rows.slice(0, DOWNLOAD_MAX));
    for (const e of rows.slice(0, DOWNLOAD_MAX)) {
      const r = auditRow(e, staff, patients);
      table.push([r.when, r.user, r.what, r.patient, r.outcome]);
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([csvText(table)], { type: 'text/csv' }));
    link.download = 'audit-search.csv';
    link.click();
    URL.revokeObjectURL(link.href);
    setDownloadNote(
      total > DOWNLOAD_MAX ? `Downloaded the first ${DOWNLOAD_MAX} of ${total} records: narrow the search for the rest.` : `Downloaded ${rows.length} records.`,
    );
  };
  const submit = () => {
    const q = new URLSearchParams();
    setFormError(null);
    if (form.patient) q.set('patient', form.patient.startsWith('Patient/') ? form.patient : `Patient/${form.patient}`);
    if (form.agent) {
      // A person picked by name or user name; their records are found by their account.
      const person = findPerson(staff, form.agent);
      if (person) q.set('agent', person.accountId);
      else if (/^Practitioner\/[A-Za-z0-9\-.]+$/.test(form.agent.trim())) q.set('agent', form.agent.trim());
      else {
        setFormError(NO_SUCH_PERSON);
        return;
      }
    }
    if (form.from) q.append('date', `ge${form.from}`);
    if (form.to) q.append('date', `le${form.to}`);
    if (form.action) q.set('action', form.action);
    if (form.outcome) q.set('outcome', form.outcome);
    setOffset(0);
    setQuery(q.toString());
  };
  const field = (k: keyof typeof form, text: string, type = 'text') => (
    <label>
      {text}
      <input type={type} value={form[k]} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
    </label>
  );
  const events = data?.resources ?? [];
  return (
    <section>
      <h1>Audit search</h1>
      <PatientFinder
        onChoose={(p) => {
          setChosen(p);
          setForm({ ...form, patient: p.id });
        }}
      />
      {chosen ? <p role="status">Records about {patientInWords(chosen)}.</p> : null}
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label>
          Patient id (or find the patient by name above)
          <input value={form.patient} onChange={(e) => (setChosen(null), setForm({ ...form, patient: e.target.value }))} />
        </label>
        <StaffPicker label="Staff member" value={form.agent} onChange={(v) => setForm({ ...form, agent: v })} staff={staff} />
        {field('from', 'From', 'date')}
        {field('to', 'To', 'date')}
        <label>
          Action
          <select value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })}>
            <option value="">any</option>
            <option value="C">create</option>
            <option value="R">read</option>
            <option value="U">update</option>
            <option value="D">delete</option>
            <option value="E">execute (search, export, login)</option>
          </select>
        </label>
        <label>
          Outcome
          <select value={form.outcome} onChange={(e) => setForm({ ...form, outcome: e.target.value })}>
            <option value="">any</option>
            <option value="0">success</option>
            <option value="4">refused or failed</option>
          </select>
        </label>
        <label>
          Order
          <select value={newestFirst ? 'newest' : 'oldest'} onChange={(e) => (setNewestFirst(e.target.value === 'newest'), setOffset(0))}>
            <option value="newest">newest first</option>
            <option value="oldest">oldest first</option>
          </select>
        </label>
        <button
          type="submit"
          className="primary"
          disabled={form.agent.trim() !== '' && !staffLoaded}
          title={form.agent.trim() !== '' && !staffLoaded ? 'The staff list is still loading' : undefined}
        >
          Search
        </button>
      </form>
      <ErrorNote error={formError} />
      <ErrorNote error={error} />
      <Loading when={loading && query !== null} />
      {data ? (
        <>
          <table>
            <Heads cols={['When', 'User', 'What', 'Patient', 'Outcome']} />
            <tbody>
              {events.map((e) => {
                const r = auditRow(e, staff, data.patients);
                return (
                  <tr key={e.id}>
                    <td>{when(e.recorded)}</td>
                    <td>{r.user}</td>
                    <td>{r.what}</td>
                    <td>{r.patient}</td>
                    <td>{r.outcome}</td>
                  </tr>
                );
              })}
              {events.length === 0 ? (
                <tr>
                  <td colSpan={5} className="muted">
                    No audit record matches this search: widen the dates, or leave a field empty.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
          <Pager what="Audit records" offset={offset} count={PAGE} total={data.total ?? events.length} onChange={setOffset} />
          <p>
            <button type="button" onClick={() => void download().catch((err: Error) => setDownloadNote(err.message))} disabled={events.length === 0}>
              Download as CSV
            </button>{' '}
            {downloadNote ? <span role="status">{downloadNote}</span> : null}
          </p>
        </>
      ) : null}
    </section>
  );
}
