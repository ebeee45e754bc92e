/**
 * Reported mail, for security administrators and the awareness officer: the same message reported
 * by several people shown once, with the automatic verdict and its reasons in words; a search by
 * sender, subject or link; and the decision (phishing, harmless, spam), confirmed, with a note kept
 * with it. A decision covers every undecided report of the same message, and its reporters see it.
 */
import { useState } from 'react';
import { AwarenessDecided, AwarenessQueue, type AwarenessQueue as QueueT } from '../../../src/api/index.js';
import { get, post } from '../api';
import { Dialog, ErrorNote, Loading, useAction, useLoad, when } from '../ui';
import { MailboxSearch } from './awarenessMailboxes';
import { outcomeWords, verdictWords } from './awarenessWords';

type Cluster = QueueT['clusters'][number];

export function ReportedMail({ canSearchMailboxes = false }: { canSearchMailboxes?: boolean }) {
  const [form, setForm] = useState({ sender: '', subject: '', link: '', open: true });
  const [query, setQuery] = useState(form);
  const params = new URLSearchParams();
  for (const k of ['sender', 'subject', 'link'] as const) if (query[k].trim()) params.set(k, query[k].trim());
  if (query.open) params.set('open', 'true');
  const queue = useLoad(() => get(AwarenessQueue, `/api/awareness/reports?${params.toString()}`), [params.toString()]);
  const [deciding, setDeciding] = useState<Cluster | null>(null);
  const byId = new Map((queue.data?.reports ?? []).map((r) => [r.id, r]));
  return (
    <section>
      <h1>Reported mail</h1>
      <p className="muted">Messages staff reported as suspicious. Reports of the clinic&apos;s own simulations are credited at once and are not listed here.</p>
      <form
        className="filters"
        role="search"
        aria-label="Reported mail"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(form);
        }}
      >
        <label>
          Sender <input value={form.sender} onChange={(e) => setForm({ ...form, sender: e.target.value })} />
        </label>
        <label>
          Subject <input value={form.subject} onChange={(e) => setForm({ ...form, subject: e.target.value })} />
        </label>
        <label>
          Link <input value={form.link} onChange={(e) => setForm({ ...form, link: e.target.value })} />
        </label>
        <label className="check">
          <input type="checkbox" checked={form.open} onChange={(e) => setForm({ ...form, open: e.target.checked })} /> Only undecided
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ErrorNote error={queue.error} />
      <Loading when={queue.loading} />
      {queue.data && queue.data.clusters.length === 0 ? <p>No reported message {query.open ? 'waits for a decision' : 'matches this search'}.</p> : null}
      {queue.data?.clusters.map((c) => {
        const first = byId.get(c.ids[0]);
        const decided = first?.outcome;
        return (
          <article className="card" key={c.fingerprint} aria-labelledby={`m-${c.ids[0]}`}>
            <h2 id={`m-${c.ids[0]}`}>{c.subject || '(no subject)'}</h2>
            <p>
              From <strong>{c.sender || 'an unknown sender'}</strong>. Reported by {c.reporters} {c.reporters === 1 ? 'person' : 'people'}
              {c.reports > c.reporters ? ` (${c.reports} reports)` : ''}, first {when(c.first)}.
            </p>
            <p>
              Automatic verdict: <strong>{verdictWords(c.verdict)}</strong>
            </p>
            {first && first.reasons.length > 0 ? (
              <ul>
                {first.reasons.map((r) => (
                  <li key={r.code}>{r.text}</li>
                ))}
              </ul>
            ) : null}
            {first && first.links.length > 0 ? <p className="muted break">Links: {first.links.slice(0, 5).join(', ')}</p> : null}
            {decided ? (
              <p>
                Decided: <strong>{outcomeWords(decided)}</strong> by {first?.decidedBy}, {when(first?.decidedAt)}
                {first?.outcomeNote ? `: “${first.outcomeNote}”` : ''}
              </p>
            ) : (
              <button type="button" className="primary" onClick={() => setDeciding(c)}>
                Decide on “{c.subject || '(no subject)'}”…
              </button>
            )}
          </article>
        );
      })}
      {deciding ? <Decide cluster={deciding} onClose={() => setDeciding(null)} onDone={queue.reload} /> : null}
      {canSearchMailboxes ? <MailboxSearch /> : null}
    </section>
  );
}

const CHOICES = [
  { value: 'phishing', label: 'Phishing: a real attack' },
  { value: 'harmless', label: 'Harmless: a genuine message' },
  { value: 'spam', label: 'Spam: unwanted, not dangerous' },
] as const;

function Decide({ cluster, onClose, onDone }: { cluster: Cluster; onClose: () => void; onDone: () => void }) {
  const [outcome, setOutcome] = useState('');
  const [note, setNote] = useState('');
  const run = useAction(async () => {
    const r = await post(AwarenessDecided, `/api/awareness/reports/${cluster.ids[0]}/decision`, { outcome, note: note.trim() });
    onDone();
    onClose();
    return r;
  });
  return (
    <Dialog title={`Decide on “${cluster.subject || '(no subject)'}”`} open={true} onClose={onClose}>
      <p>
        The decision covers all {cluster.reports} undecided report{cluster.reports === 1 ? '' : 's'} of this message, and the {cluster.reporters}{' '}
        {cluster.reporters === 1 ? 'person who reported it sees' : 'people who reported it see'} it. It is recorded with your name and note.
      </p>
      <fieldset>
        <legend>Decision</legend>
        {CHOICES.map((c) => (
          <label key={c.value} className="check">
            <input type="radio" name="outcome" value={c.value} checked={outcome === c.value} onChange={() => setOutcome(c.value)} /> {c.label}
          </label>
        ))}
      </fieldset>
      <label>
        Note (kept with the decision) <textarea rows={3} value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
      </label>
      <ErrorNote error={run.error} />
      <div className="actions">
        <button type="button" className="primary" disabled={run.busy || !outcome || note.trim().length < 5} onClick={() => void run.run()}>
          Record the decision
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
