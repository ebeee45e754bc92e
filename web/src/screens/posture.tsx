/**
 * Posture: the clinic's scorecard against HHS 405(d) HICP for administrators and the privacy and
 * security officers. The headline in words, the five threats as bars with their percentages in
 * text, the next steps (each with where to act), the practices with a link to each one's evidence,
 * the trend, and the attestations with their review dates. "Measure now" needs no confirmation: it
 * only measures and keeps a snapshot, changing nothing in the clinic.
 */
import { PostureAttestations, PostureHistory, PostureNext, PostureScorecard, type PostureAttestations as AttestationsT } from '../../../src/api/index.js';
import { ApiError, get, getFile, post } from '../api';
import { Link } from '../router';
import { day, ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';
import { practiceWords, pct, reviewDay, STATUS } from './postureWords';
import { PostureTrend } from './postureTrend';

/** A 403 said as what it is: the screen belongs to other roles, not a fault. */
export function Refusal({ error }: { error?: Error }) {
  if (error instanceof ApiError && error.status === 403)
    return (
      <p role="alert" className="error">
        Posture is for administrators and the privacy and security officers; your role does not include it.
      </p>
    );
  return <ErrorNote error={error} />;
}

/** Measures now and keeps the snapshot; says when the shown scorecard was measured. */
export function MeasureNow({ generatedAt, onMeasured }: { generatedAt?: string; onMeasured: () => void }) {
  const measure = useAction(async () => {
    const card = await post(PostureScorecard, '/api/posture/refresh');
    onMeasured();
    return card;
  });
  return (
    <div className="actions measure">
      <button type="button" className="primary" disabled={measure.busy} onClick={() => void measure.run()}>
        {measure.busy ? 'Measuring…' : 'Measure now'}
      </button>
      <p role="status">
        {generatedAt ? `Measured ${when(generatedAt)}.` : ''}{' '}
        {measure.result ? `Measured again just now: ${measure.result.summary.inPlace} of ${measure.result.summary.total} practices in place.` : ''}
      </p>
      <ErrorNote error={measure.error} />
    </div>
  );
}

export function Posture() {
  const card = useLoad(() => get(PostureScorecard, '/api/posture'), []);
  const next = useLoad(() => get(PostureNext, '/api/posture/next'), []);
  const history = useLoad(() => get(PostureHistory, '/api/posture/history'), []);
  const attestations = useLoad(() => get(PostureAttestations, '/api/posture/attestations'), []);
  const c = card.data;
  const reload = () => [card, next, history, attestations].forEach((l) => l.reload());
  return (
    <section>
      <h1>Posture</h1>
      <p className="muted">How the clinic stands against the ten practices of HHS 405(d) HICP, measured where Carewall can see and attested where it cannot.</p>
      <Refusal error={card.error} />
      <Loading when={card.loading && !c} />
      {c ? (
        <>
          <div className="card">
            <h2 className="headline">
              {c.summary.inPlace} of {c.summary.total} practices in place
            </h2>
            <MeasureNow generatedAt={c.generatedAt} onMeasured={reload} />
          </div>
          <div className="card">
            <h2 id="threats-title">The five threats</h2>
            <p className="muted">How much of what mitigates each threat is in place.</p>
            <ul className="bars" aria-labelledby="threats-title">
              {c.threats.map((t) => (
                <li key={t.id}>
                  <span className="bar-label">{t.title}</span>
                  <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                    <rect x={0} y={0} width={100} height={10} className="bar-back" />
                    <rect x={0} y={0} width={Math.round(t.score * 100)} height={10} className="bar-fill" />
                  </svg>
                  <span className="bar-value">{pct(t.score)}</span>
                </li>
              ))}
            </ul>
          </div>
          {c.goals?.length ? (
            <div className="card">
              <h2 id="goals-title">HHS performance goals</h2>
              <p className="muted">The essential and enhanced goals for health care, each through the practices that meet it.</p>
              <table aria-labelledby="goals-title">
                <Heads cols={['Goal', 'Kind', 'In place']} />
                <tbody>
                  {c.goals.map((g) => (
                    <tr key={g.id}>
                      <td>{g.title}</td>
                      <td>{g.kind === 'essential' ? 'Essential' : 'Enhanced'}</td>
                      <td>{pct(g.score)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <div className="card">
            <h2>Next steps</h2>
            <Refusal error={next.error} />
            {next.data && next.data.length === 0 ? <p>Nothing left to do: every item is in place.</p> : null}
            <ol className="next-steps">
              {next.data?.map((n) => (
                <li key={n.item}>
                  <strong>{n.title}</strong>: {n.next} <Link to={`/posture/practices/${n.practiceId}`}>Go to {n.practice}</Link>
                </li>
              ))}
            </ol>
          </div>
          <div className="card">
            <h2>Practices</h2>
            <table>
              <Heads cols={['Practice', 'Score', 'State', 'Items']} />
              <tbody>
                {c.practices.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <Link to={`/posture/practices/${p.id}`}>{p.title}</Link>
                    </td>
                    <td>{pct(p.score)}</td>
                    <td>{practiceWords(p.score, p.items)}</td>
                    <td>{itemCounts(p.items)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {c ? (
        <div className="card">
          <h2>Trend</h2>
          <Refusal error={history.error} />
          {history.data ? <PostureTrend history={history.data} /> : null}
        </div>
      ) : null}
      {c ? (
        <div className="card">
          <h2>Attestations</h2>
          <p className="muted">What a named person vouched for where Carewall cannot measure. After its review date an attestation no longer counts.</p>
          <Refusal error={attestations.error} />
          {attestations.data ? (
            <AttestationList list={attestations.data} titleOf={(id) => c.practices.flatMap((p) => p.items).find((i) => i.id === id)?.title ?? id} />
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function itemCounts(items: Array<{ status: keyof typeof STATUS }>): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(STATUS[i.status], (counts.get(STATUS[i.status]) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ');
}

/** Saves an attestation's evidence file under the name it was given. */
async function saveEvidence(item: string): Promise<void> {
  const { blob, name } = await getFile(`/api/posture/attestations/${encodeURIComponent(item)}/evidence`);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  URL.revokeObjectURL(a.href);
}

export function AttestationList({ list, titleOf }: { list: AttestationsT; titleOf: (item: string) => string }) {
  if (list.length === 0) return <p>No attestation yet.</p>;
  const now = Date.now();
  return (
    <table>
      <Heads cols={['Item', 'Status', 'Owner', 'What was checked', 'Attested', 'Review by']} />
      <tbody>
        {list.map((a) => {
          const expired = Date.parse(a.expiresAt) <= now;
          return (
            <tr key={a.item} className={expired ? 'expired' : undefined}>
              <td>{titleOf(a.item)}</td>
              <td>{STATUS[a.status]}</td>
              <td>{a.owner}</td>
              <td>
                {a.note}
                {a.evidenceSha256 ? (
                  <>
                    <span className="muted"> (evidence file kept, SHA-256 {a.evidenceSha256.slice(0, 12)}…) </span>
                    <button type="button" onClick={() => void saveEvidence(a.item)}>
                      Download the evidence
                    </button>
                  </>
                ) : null}
              </td>
              <td>{day(a.attestedAt)}</td>
              <td>
                {reviewDay(a.expiresAt)}
                {expired ? <strong className="error"> Expired: no longer counts</strong> : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
