/**
 * Equipment, for biomedical engineers: releases on their way and the engineer's part in each (the
 * test lab's sign-off, their own approval), in words. An approval is the engineer's own signature,
 * made on their own machine with their own key (`carewall updates sign`): the console downloads the
 * file to sign and uploads the signature, and says what is being approved before it is sent.
 */
import { useState } from 'react';
import { Release, ReleaseList, type Release as ReleaseT } from '../../../src/api/index.js';
import { get, getText, post } from '../api';
import { Dialog, ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';

const STATE_WORDS: Record<ReleaseT['state'], string> = {
  'awaiting-image': 'Waiting for the image',
  quarantined: 'In quarantine: SBOM and test lab',
  'awaiting-approval': "Waiting for engineers' approval",
  published: 'Released to devices',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

export function Releases({ me }: { me: string }) {
  const list = useLoad(() => get(ReleaseList, '/updates/releases'), []);
  const [signing, setSigning] = useState<ReleaseT | null>(null);
  const [lab, setLab] = useState<ReleaseT | null>(null);
  const open = (list.data ?? []).filter((r) => r.state !== 'published' && r.state !== 'rejected' && r.state !== 'withdrawn');
  const done = (list.data ?? []).filter((r) => !open.includes(r)).slice(0, 20);
  return (
    <section>
      <h1>Equipment releases</h1>
      <ErrorNote error={list.error} />
      <Loading when={list.loading} />
      <div className="card">
        <h2>Waiting for you and your colleagues</h2>
        {open.length === 0 ? (
          <p>No release is on its way.</p>
        ) : (
          <table>
            <Heads cols={['Release', 'Equipment', 'Vendor', 'Where it stands', 'Approvals', '']} />
            <tbody>
              {open.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.name} <span className="muted">version {r.version}</span>
                  </td>
                  <td>{r.deviceClass}</td>
                  <td>{r.vendor}</td>
                  <td>
                    {STATE_WORDS[r.state]}
                    {r.advisories.length > 0 ? <div className="error">{r.advisories.length} open advisory(ies)</div> : null}
                  </td>
                  <td>{approvalWords(r)}</td>
                  <td>
                    {r.state === 'quarantined' && r.sbomComponents !== null ? (
                      <button type="button" onClick={() => setLab(r)}>
                        Record the test lab&apos;s result
                      </button>
                    ) : null}
                    {r.state === 'awaiting-approval' && !r.approvals?.signedBy.includes(me) ? (
                      <button type="button" className="primary" onClick={() => setSigning(r)}>
                        Approve…
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="card">
        <h2>Recently decided</h2>
        {done.length === 0 ? (
          <p>No release has been decided yet.</p>
        ) : (
          <table>
            <Heads cols={['Release', 'Equipment', 'Outcome', 'Since']} />
            <tbody>
              {done.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.name} <span className="muted">version {r.version}</span>
                  </td>
                  <td>{r.deviceClass}</td>
                  <td>
                    {STATE_WORDS[r.state]}
                    {r.closedReason ? `: ${r.closedReason}` : ''}
                  </td>
                  <td>{when(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <Approve release={signing} onClose={() => setSigning(null)} onDone={list.reload} />
      <LabSignoff release={lab} onClose={() => setLab(null)} onDone={list.reload} />
    </section>
  );
}

function approvalWords(r: ReleaseT): string {
  if (!r.approvals) return '—';
  const by = r.approvals.signedBy.length === 0 ? 'none yet' : r.approvals.signedBy.join(', ');
  return `${r.approvals.signedBy.length} of ${r.approvals.needed} (${by})`;
}

/** Download the file to sign; upload the signature made with one's own key; confirm; send. */
function Approve({ release, onClose, onDone }: { release: ReleaseT | null; onClose: () => void; onDone: () => void }) {
  const [signature, setSignature] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const download = useAction(async () => {
    const text = await getText(`/updates/releases/${release!.id}/unsigned`);
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    a.download = `${release!.path}.unsigned.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  });
  const approve = useAction(async () => {
    const r = await post(Release, `/updates/releases/${release!.id}/approvals`, signature);
    onDone();
    return r;
  });
  const close = () => {
    setSignature(null);
    setProblem(null);
    onClose();
  };
  const read = async (file: File | undefined) => {
    setProblem(null);
    setSignature(null);
    if (!file) return;
    try {
      setSignature(JSON.parse(await file.text()));
    } catch {
      setProblem('That file is not a signature file: choose the file carewall updates sign wrote.');
    }
  };
  if (!release) return <Dialog title="Approve a release" open={false} onClose={close} children={null} />;
  const last = release.approvals && release.approvals.signedBy.length + 1 >= release.approvals.needed;
  return (
    <Dialog title={`Approve ${release.name}`} open={true} onClose={close}>
      {approve.result ? (
        <>
          <p role="status">
            {approve.result.state === 'published'
              ? 'Approved and released: devices will find it at their next check.'
              : `Approved: ${approvalWords(approve.result)}.`}
          </p>
          <button type="button" onClick={close}>
            Close
          </button>
        </>
      ) : (
        <>
          <p>
            You approve <strong>{release.name}</strong> (version {release.version}) from {release.vendor} for <strong>{release.deviceClass}</strong> equipment
            with hardware {release.hardwareIds.join(', ')}, upgrading from version {release.minUpgradeFrom} or later. The test lab signed it off
            {release.labSignoff ? ` (${release.labSignoff.by}: “${release.labSignoff.note}”)` : ''}.
          </p>
          <ol>
            <li>
              <button type="button" onClick={() => void download.run()} disabled={download.busy}>
                Download the file to sign
              </button>
            </li>
            <li>
              On your own computer: <code>carewall updates sign --key YOUR.key --in FILE --out SIGNATURE</code>. Read what it prints before you sign.
            </li>
            <li>
              <label>
                Your signature file <input type="file" accept=".json,application/json" onChange={(e) => void read(e.target.files?.[0])} />
              </label>
            </li>
          </ol>
          <ErrorNote error={problem ?? download.error ?? approve.error} />
          <p>{last ? 'Yours is the last approval needed: the release goes to devices once you confirm.' : 'More approvals are needed after yours.'}</p>
          <div className="actions">
            <button type="button" className="primary" disabled={!signature || approve.busy} onClick={() => void approve.run()}>
              {approve.busy ? 'Approving…' : 'Confirm my approval'}
            </button>
            <button type="button" onClick={close}>
              Cancel
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}

function LabSignoff({ release, onClose, onDone }: { release: ReleaseT | null; onClose: () => void; onDone: () => void }) {
  const [passed, setPassed] = useState<boolean | null>(null);
  const [note, setNote] = useState('');
  const [accept, setAccept] = useState(false);
  const save = useAction(async () => {
    const r = await post(Release, `/updates/releases/${release!.id}/lab-signoff`, { passed, note, ...(accept ? { acceptAdvisories: true } : {}) });
    onDone();
    close();
    return r;
  });
  const close = () => {
    setPassed(null);
    setNote('');
    setAccept(false);
    onClose();
  };
  if (!release) return <Dialog title="Test lab result" open={false} onClose={close} children={null} />;
  return (
    <Dialog title={`Test lab result for ${release.name}`} open={true} onClose={close}>
      <fieldset>
        <legend>Did it pass the test lab?</legend>
        <label>
          <input type="radio" name="lab" checked={passed === true} onChange={() => setPassed(true)} /> Passed: propose it for approval
        </label>
        <label>
          <input type="radio" name="lab" checked={passed === false} onChange={() => setPassed(false)} /> Failed: reject it
        </label>
      </fieldset>
      <label>
        What the lab found <textarea value={note} onChange={(e) => setNote(e.target.value)} rows={3} />
      </label>
      {release.advisories.length > 0 ? (
        <div>
          <p className="error">Open advisories hit this release: {release.advisories.map((a) => `${a.id} (${a.title})`).join('; ')}.</p>
          <label>
            <input type="checkbox" checked={accept} onChange={(e) => setAccept(e.target.checked)} /> Release it anyway; my note says why
          </label>
        </div>
      ) : null}
      <ErrorNote error={save.error} />
      <div className="actions">
        <button type="button" className="primary" disabled={passed === null || note.trim().length < 10 || save.busy} onClick={() => void save.run()}>
          Record the result
        </button>
        <button type="button" onClick={close}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
