/**
 * One practice's evidence: each item's status in words, whether Carewall measured it or a person
 * attested it, the evidence texts and the next step. An item Carewall cannot measure is attested
 * here, in a dialog that is the confirmation: it says the attestation is recorded with the user's
 * name and stops counting on its review date. An evidence file is read in the browser and sent as
 * base64 (the server keeps it sealed and records its hash).
 */
import { useState } from 'react';
import { PostureAttestation, PostureAttestations, PostureScorecard, type PostureScorecard as CardT } from '../../../src/api/index.js';
import { get, post } from '../api';
import { Link } from '../router';
import { day, Dialog, ErrorNote, Loading, useAction, useLoad, when } from '../ui';
import { MeasureNow, Refusal } from './posture';
import { ATTEST_CHOICES, practiceWords, pct, reviewDay, statusWithSource } from './postureWords';

type Item = CardT['practices'][number]['items'][number];
/** The server's limits (src/posture/service.ts): a review at least every 13 months. */
const MAX_DAYS = 395;
/** The route's body limit is 16 MB, and base64 grows a file by a third. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

export function PosturePractice({ id, username }: { id: string; username: string }) {
  const card = useLoad(() => get(PostureScorecard, '/api/posture'), []);
  const attestations = useLoad(() => get(PostureAttestations, '/api/posture/attestations'), []);
  const [attesting, setAttesting] = useState<Item | null>(null);
  const [recorded, setRecorded] = useState<string | null>(null);
  const practice = card.data?.practices.find((p) => p.id === id);
  return (
    <section>
      <p>
        <Link to="/posture">All practices</Link>
      </p>
      <Refusal error={card.error} />
      <Loading when={card.loading && !card.data} />
      {card.data && !practice ? <h1>No such practice</h1> : null}
      {card.data && practice ? (
        <>
          <h1>{practice.title}</h1>
          <p>
            Score {pct(practice.score)}: <strong>{practiceWords(practice.score, practice.items).toLowerCase()}</strong>.
          </p>
          <MeasureNow generatedAt={card.data.generatedAt} onMeasured={() => (setRecorded(null), card.reload())} />
          {recorded ? <p role="status">{recorded}</p> : null}
          {practice.items.map((i) => {
            const held = attestations.data?.find((a) => a.item === i.id);
            return (
              <article className="card" key={i.id} aria-labelledby={`item-${i.id}`}>
                <h2 id={`item-${i.id}`}>{i.title}</h2>
                <p>
                  <strong className={`status ${i.status}`}>{statusWithSource(i)}</strong>
                </p>
                {i.evidence.length === 0 ? (
                  <p className="muted">No evidence yet.</p>
                ) : (
                  <ul>
                    {i.evidence.map((e, n) => (
                      <li key={n}>
                        {e.text} <span className="muted">({when(e.at)})</span>
                      </li>
                    ))}
                  </ul>
                )}
                {i.next ? (
                  <p>
                    Next step: <em>{i.next}</em>
                  </p>
                ) : null}
                {held ? (
                  <p className="muted">
                    Last attested by {held.owner} on {day(held.attestedAt)}; review by {reviewDay(held.expiresAt)}.
                  </p>
                ) : null}
                {i.source === 'attested' ? (
                  <button type="button" className="primary" aria-describedby={`item-${i.id}`} onClick={() => (setRecorded(null), setAttesting(i))}>
                    Attest…
                  </button>
                ) : null}
              </article>
            );
          })}
        </>
      ) : null}
      {attesting ? (
        <Attest
          item={attesting}
          username={username}
          onClose={() => setAttesting(null)}
          onDone={(a) => {
            attestations.reload();
            setRecorded(
              `Attestation recorded for “${attesting.title}”, review by ${reviewDay(a.expiresAt)}. It counts from the next measurement (Measure now).`,
            );
          }}
        />
      ) : null}
    </section>
  );
}

const dateIn = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** The file as base64, read in the browser (a data: URL is base64 after its comma). */
function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(',')[1] ?? '');
    r.onerror = () => reject(new Error(`the file ${file.name} could not be read`));
    r.readAsDataURL(file);
  });
}

function Attest({ item, username, onClose, onDone }: { item: Item; username: string; onClose: () => void; onDone: (a: PostureAttestation) => void }) {
  const [status, setStatus] = useState('');
  const [note, setNote] = useState('');
  const [review, setReview] = useState(dateIn(365));
  const [file, setFile] = useState<File | null>(null);
  const tooBig = file !== null && file.size > MAX_FILE_BYTES;
  const run = useAction(async () => {
    const evidence = file ? { name: file.name, base64: await base64Of(file) } : undefined;
    const a = await post(PostureAttestation, '/api/posture/attestations', {
      item: item.id,
      status,
      note: note.trim(),
      expiresAt: new Date(`${review}T00:00:00Z`).toISOString(),
      ...(evidence ? { evidence } : {}),
    });
    onDone(a);
    onClose();
    return a;
  });
  const ready = status !== '' && note.trim().length >= 10 && /^\d{4}-\d{2}-\d{2}$/.test(review) && !tooBig;
  return (
    <Dialog title={`Attest “${item.title}”`} open={true} onClose={onClose}>
      <fieldset>
        <legend>Status</legend>
        {ATTEST_CHOICES.map((c) => (
          <label key={c.value} className="check">
            <input type="radio" name="attest-status" value={c.value} checked={status === c.value} onChange={() => setStatus(c.value)} /> {c.label}
          </label>
        ))}
      </fieldset>
      <label>
        What was checked (10 to 2000 characters) <textarea rows={3} value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
      </label>
      <label>
        Review date <input type="date" value={review} min={dateIn(1)} max={dateIn(MAX_DAYS)} onChange={(e) => setReview(e.target.value)} />
      </label>
      <label>
        Evidence file (optional) <input type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      {tooBig ? <ErrorNote error="The evidence file is larger than 10 MB; attach a smaller one or a summary." /> : null}
      <p>
        This will be recorded with your name, <strong>{username}</strong>, and counts until the review date
        {/^\d{4}-\d{2}-\d{2}$/.test(review) ? `, ${reviewDay(`${review}T00:00:00Z`)}` : ''}: then it expires and the item counts as missing until it is attested
        again.
      </p>
      <ErrorNote error={run.error} />
      <div className="actions">
        <button type="button" className="primary" disabled={run.busy || !ready} onClick={() => void run.run()}>
          Record the attestation
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
