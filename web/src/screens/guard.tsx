/**
 * File shares: the ransomware guard's state and alarms for the security administrator (and the
 * privacy officer, who is notified of each alarm). Counts and share names only: which files were
 * hit is in the alerts file on the server, since file names can carry patients' names.
 */
import { GuardReleased, GuardView } from '../../../src/api/index.js';
import { get, post } from '../api';
import { ErrorNote, Heads, Loading, useAction, useLoad, when } from '../ui';

/** The restore command with this installation's repository, share folder and (demo) key file where known. */
function undoCommand(g: GuardView): string {
  const share = g.shares.length === 1 ? g.shares[0] : 'NAME';
  const folder = g.undo?.folders?.[share] ?? 'FOLDER-OF-THE-SHARE';
  return [
    'npx carewall backup restore',
    `--repository ${g.undo?.repository ?? 'REPOSITORY'}`,
    `--recovery-key-file ${g.undo?.recoveryKeyFile ?? 'RECOVERY-KEY-FILE'}`,
    `--share ${share}`,
    `--changed-since ${g.incident?.since ?? ''}`,
    `--to ${folder} --aside`,
  ].join(' ');
}

export function FileShares({ canRelease }: { canRelease: boolean }) {
  const view = useLoad(() => get(GuardView, '/api/guard'), []);
  const release = useAction(async () => {
    const r = await post(GuardReleased, '/api/guard/release');
    view.reload();
    return r;
  });
  const g = view.data;
  return (
    <section>
      <h1>File shares</h1>
      <ErrorNote error={view.error} />
      <Loading when={view.loading} />
      {g ? (
        <>
          <div className="card">
            <h2>Ransomware guard</h2>
            {!g.enabled ? (
              <p>No share is watched: name the clinic&apos;s folders in carewall.json (backup.shares).</p>
            ) : g.incident ? (
              // During an incident the state is danger, whatever else holds: never a green "Watching".
              <p role="status" className="error">
                Under attack since {when(g.incident.since)}: {g.incident.affected} file(s) affected so far
                {g.readOnly ? '; the shares are read-only until released' : '; the shares are still writable'}.
                {g.watching ? ` Still watching ${g.shares.join(', ')}.` : ` Not watching ${g.shares.join(', ')}: see the server log.`}
              </p>
            ) : (
              <p role="status" className={g.watching ? 'ok' : 'error'}>
                {g.watching ? `Watching ${g.shares.join(', ')}` : `Not watching ${g.shares.join(', ')}: see the server log`}
                {g.decoys ? ' with decoy files' : ''}
                {g.readOnlyOnAlarm ? '; an alarm makes the shares read-only' : ''}.
              </p>
            )}
          </div>
          {g.incident ? (
            <div className="card" role="alert">
              <h2>Incident under way</h2>
              <p>
                Since {when(g.incident.since)}: <strong>{g.incident.affected}</strong> file(s) affected so far, over the whole incident (each alarm below counts
                those it had seen when raised).{' '}
                {g.incident.snapshot?.location
                  ? `Protective snapshot: ${g.incident.snapshot.location} (${g.incident.snapshot.files ?? 0} untouched files).`
                  : ''}
                {g.incident.snapshot?.error ? `The protective snapshot failed: ${g.incident.snapshot.error}.` : ''}
              </p>
              <p>
                The list of affected files is in the server&apos;s data folder (guard/alerts.affected.json). Undo the attack (the files changed since it began
                come back from the last backup before it; the attacked copies are renamed aside, never deleted) with
              </p>
              <p className="note break">
                <code>{undoCommand(g)}</code>
              </p>
              <p>
                {g.undo?.recoveryKeyFile
                  ? 'This demo keeps its recovery key in its data folder; a clinic keeps it offline and runs this on the machine that keeps it.'
                  : g.undo
                    ? "Run it on the machine that keeps the recovery key, with the key in a file of your own, and the share's folder (carewall.json backup.shares) for FOLDER-OF-THE-SHARE."
                    : 'No backup repository is set up, so there is nothing to restore from: set one up (carewall backup init) before the next attack.'}
              </p>
              {g.readOnly ? <p>The shares are read-only: the restore needs an account that may still write to them (root on the server).</p> : null}
              {canRelease ? (
                <button type="button" className="primary" disabled={release.busy} onClick={() => void release.run()}>
                  {release.busy ? 'Releasing…' : 'Clean-up done: release the shares'}
                </button>
              ) : null}
              <ErrorNote error={release.error} />
            </div>
          ) : null}
          {release.result ? <p role="status">Released: {release.result.writable} folders and files writable again; the guard watches afresh.</p> : null}
          <div className="card">
            <h2>Alarms</h2>
            {g.alarms.length === 0 ? (
              <p>No alarm has been raised.</p>
            ) : (
              <table>
                <Heads cols={['Raised', 'Severity', 'Shares', 'What was seen', 'Files affected when raised']} />
                <tbody>
                  {g.alarms.map((a) => (
                    <tr key={a.id}>
                      <td>{when(a.at)}</td>
                      <td>{a.severity}</td>
                      <td>{a.shares.join(', ')}</td>
                      <td>{a.reason}</td>
                      <td>{a.affected}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </>
      ) : null}
    </section>
  );
}
