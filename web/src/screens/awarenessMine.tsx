/**
 * My awareness, for every member of staff: the simulated messages one was sent and what one did
 * with them, the course, reporting a suspicious message (a saved .eml file) with the verdict at
 * once, and what became of one's reports. Nobody else's results are here.
 */
import { useState } from 'react';
import { AwarenessMine, AwarenessMyReports, AwarenessReportAnswer, type AwarenessReportAnswer as AnswerT } from '../../../src/api/index.js';
import { get, postFile } from '../api';
import { Link } from '../router';
import { ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';
import { didWhat, outcomeWords, verdictWords } from './awarenessWords';

export function MyAwareness() {
  const mine = useLoad(() => get(AwarenessMine, '/api/awareness/me'), []);
  const reports = useLoad(() => get(AwarenessMyReports, '/api/awareness/reports/mine'), []);
  return (
    <section>
      <h1>My awareness</h1>
      <ReportMessage onDone={() => (reports.reload(), mine.reload())} />
      <div className="card wide">
        <h2>Practice messages sent to me</h2>
        <ErrorNote error={mine.error} />
        <Loading when={mine.loading} />
        {mine.data && mine.data.history.length === 0 ? <p>No practice message has been sent to you yet.</p> : null}
        {mine.data && mine.data.history.length > 0 ? (
          <table>
            <Heads cols={['Campaign', 'Message', 'Sent', 'What happened']} />
            <tbody>
              {mine.data.history.map((h, i) => (
                <tr key={i}>
                  <td>{h.campaign}</td>
                  <td>{h.message}</td>
                  <td>{when(h.sentAt)}</td>
                  <td>{didWhat(h)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {mine.data ? (
          <p>
            {mine.data.coursePassed
              ? 'You have passed the course.'
              : mine.data.enrolled
                ? 'You are enrolled in the course: the lessons marked as part of it are waiting for you.'
                : 'You are not enrolled in the course.'}{' '}
            <Link to="/awareness/lessons">Lessons to practise</Link>
          </p>
        ) : null}
      </div>
      <div className="card wide">
        <h2>My reports</h2>
        <ErrorNote error={reports.error} />
        {reports.data && reports.data.length === 0 ? <p>You have not reported anything yet.</p> : null}
        {reports.data && reports.data.length > 0 ? (
          <table>
            <Heads cols={['Reported', 'Message', 'Verdict', 'Outcome']} />
            <tbody>
              {reports.data.map((r) => (
                <tr key={r.id}>
                  <td>{when(r.receivedAt)}</td>
                  <td>{r.simulation ? 'A practice message' : r.subject || '(no subject)'}</td>
                  <td>{r.simulation ? 'Well spotted: a simulation' : verdictWords(r.verdict)}</td>
                  <td>
                    {r.simulation ? 'Credited to you' : outcomeWords(r.outcome)}
                    {r.outcomeNote ? `: “${r.outcomeNote}”` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
    </section>
  );
}

function ReportMessage({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const run = useAction(async () => {
    const answer = await postFile(AwarenessReportAnswer, '/api/awareness/reports', file!, 'message/rfc822');
    onDone();
    return answer;
  });
  return (
    <form
      className="card wide"
      aria-labelledby="report-message"
      onSubmit={(e) => {
        e.preventDefault();
        void run.run();
      }}
    >
      <h2 id="report-message">Report a suspicious message</h2>
      <p>Save the message from your mail program as a file (.eml: in most programs, drag it to the desktop or use “Save as”), then choose it here.</p>
      <label>
        Message file <input type="file" accept=".eml,message/rfc822" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      <button type="submit" className="primary" disabled={!file || run.busy}>
        {run.busy ? 'Checking…' : 'Report it'}
      </button>
      <ErrorNote error={run.error} />
      {run.result ? <Verdict answer={run.result} /> : null}
    </form>
  );
}

function Verdict({ answer }: { answer: AnswerT }) {
  if (answer.simulation)
    return (
      <div role="status" className="ok">
        <p>
          <strong>Well spotted!</strong> This was one of the clinic&apos;s practice messages. Thank you for reporting it.
        </p>
      </div>
    );
  return (
    <div role="status">
      <p>
        Thank you. First check: <strong>{verdictWords(answer.verdict)}</strong>. The security team will look at it; you will see their decision below.
      </p>
      {answer.reasons.length > 0 ? (
        <ul>
          {answer.reasons.map((r) => (
            <li key={r.code}>{r.text}</li>
          ))}
        </ul>
      ) : null}
      {answer.verdict !== 'clean' ? <p>Do not click its links or open its attachments, and delete it from your mailbox.</p> : null}
    </div>
  );
}
