/**
 * Where a reported message still sits, for the security administrator: every member of staff's
 * mailbox searched (read-only, by the mail server's administrator account) by sender, subject or
 * link. A list of whom it reached, to warn them; removing the copies is the mail system's job.
 */
import { useState } from 'react';
import { AwarenessMailboxHits, type AwarenessMailboxHits as HitsT } from '../../../src/api/index.js';
import { get } from '../api';
import { ErrorNote, useAction, when } from '../ui';

export function MailboxSearch() {
  const [form, setForm] = useState({ sender: '', subject: '', link: '' });
  const [found, setFound] = useState<HitsT | null>(null);
  const search = useAction(async () => {
    const params = new URLSearchParams();
    for (const k of ['sender', 'subject', 'link'] as const) if (form[k].trim()) params.set(k, form[k].trim());
    const r = await get(AwarenessMailboxHits, `/api/awareness/mailboxes/search?${params.toString()}`);
    setFound(r);
    return r;
  });
  const people = found ? new Set(found.hits.map((h) => h.mailbox)).size : 0;
  return (
    <section className="card" aria-labelledby="mailbox-search">
      <h2 id="mailbox-search">Where else does it sit?</h2>
      <p className="muted">Searches every member of staff&apos;s inbox, read-only. Each search is recorded in the audit log.</p>
      <form
        className="filters"
        role="search"
        aria-label="Every mailbox"
        onSubmit={(e) => {
          e.preventDefault();
          void search.run();
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
        <button type="submit" className="primary" disabled={search.busy || !(form.sender.trim() || form.subject.trim() || form.link.trim())}>
          Search every mailbox
        </button>
      </form>
      <ErrorNote error={search.error} />
      {found ? (
        <>
          <p role="status">
            Found in {people} of {found.searched} {found.searched === 1 ? 'mailbox' : 'mailboxes'}
            {found.failed > 0 ? `; ${found.failed} could not be opened` : ''}.
          </p>
          {found.hits.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Mailbox</th>
                  <th scope="col">Arrived</th>
                  <th scope="col">From</th>
                  <th scope="col">Subject</th>
                </tr>
              </thead>
              <tbody>
                {found.hits.map((h, i) => (
                  <tr key={`${h.mailbox}-${i}`}>
                    <td>{h.mailbox}</td>
                    <td>{h.date ? when(h.date) : ''}</td>
                    <td>{h.from ?? ''}</td>
                    <td>{h.subject ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
