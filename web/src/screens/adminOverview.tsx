/**
 * The administrator's overview: is there something to restore from (the last backup, the last
 * restore test), is the ransomware guard watching or is an attack under way, and which accounts can
 * sign in with a password alone. From the routes the other screens use; each finding in words.
 */
import { AccountList, BackupStatusView, GuardView, StaffDirectory } from '../../../src/api/index.js';
import { get } from '../api';
import { Link } from '../router';
import { rolesInWords } from '../people';
import { ErrorNote, Loading, useLoad, when } from '../ui';

/** A day and a half: a daily backup that missed its run shows, one that ran a little late does not. */
const STALE_BACKUP_HOURS = 36;
/** How recent a restore test must be to count: HICP asks that restores be tested, at least quarterly. */
const RESTORE_TEST_DAYS = 90;

const hoursSince = (at: string | null | undefined) => (at ? (Date.now() - Date.parse(at)) / 3600_000 : Infinity);

export function AdminOverview() {
  const { data, error, loading } = useLoad(
    () =>
      Promise.all([
        get(BackupStatusView, '/api/backups/status'),
        get(GuardView, '/api/guard'),
        get(AccountList, '/api/users'),
        get(StaffDirectory, '/api/staff'),
      ]),
    [],
  );
  const [backups, guard, accounts, directory] = data ?? [];
  const nameOf = (username: string) => directory?.staff.find((p) => p.username === username)?.name ?? username;
  const passwordOnly = (accounts?.users ?? []).filter((u) => !u.disabled && !u.totpRequired);
  const backupFresh = backups ? hoursSince(backups.lastSuccessAt) <= Math.max(STALE_BACKUP_HOURS, backups.everyHours * 1.5) : false;
  const restoreTested = backups?.lastRestoreTest?.ok === true && hoursSince(backups.lastRestoreTest.at) <= RESTORE_TEST_DAYS * 24;
  return (
    <section>
      <h1>Clinic overview</h1>
      <ErrorNote error={error} />
      <Loading when={loading && !data} />
      {backups && guard && accounts ? (
        <>
          <div className="card">
            <h2>Backups</h2>
            {!backups.setUp ? (
              <p className="error">
                No backup repository is set up: nothing could be restored after ransomware or a wiper. Run <code>carewall backup init --repository …</code> on
                the server.
              </p>
            ) : (
              <>
                <p className={backupFresh ? 'ok' : 'error'}>
                  {backups.lastSuccessAt ? `Last good backup ${when(backups.lastSuccessAt)}` : 'No backup has succeeded yet'}
                  {backups.everyHours > 0 ? `; one is made every ${backups.everyHours} hours` : '; none is scheduled'}
                  {backupFresh ? '.' : ': too long ago.'}
                  {backups.lastRun && !backups.lastRun.ok
                    ? ` The last run (${when(backups.lastRun.at)}) failed: ${backups.lastRun.error ?? 'see the server log'}.`
                    : ''}
                </p>
                <p className={restoreTested ? 'ok' : 'error'}>
                  {backups.lastRestoreTest
                    ? `Last restore test ${when(backups.lastRestoreTest.at)}: ${backups.lastRestoreTest.ok ? `restored and checked in ${Math.round(backups.lastRestoreTest.seconds)} s` : 'it failed'}`
                    : 'No restore has been tested: a backup nobody has restored is a hope, not a backup'}
                  {backups.lastRestoreTest && !restoreTested && backups.lastRestoreTest.ok ? ` (older than ${RESTORE_TEST_DAYS} days)` : ''}.
                </p>
                <p className="muted">Repository: {backups.repository}</p>
              </>
            )}
          </div>
          <div className="card">
            <h2>Ransomware guard</h2>
            <p className={guard.incident ? 'error' : guard.enabled && guard.watching ? 'ok' : 'error'}>
              {guard.incident
                ? `Under attack since ${when(guard.incident.since)}: ${guard.incident.affected} file(s) affected so far.`
                : !guard.enabled
                  ? 'No file share is watched.'
                  : guard.watching
                    ? `Watching ${guard.shares.join(', ')}; ${guard.alarms.length} alarm(s) so far.`
                    : `Not watching ${guard.shares.join(', ')}: see the server log.`}{' '}
              <Link to="/security/shares">Open the guard's screen</Link>
            </p>
          </div>
          <div className="card">
            <h2>Sign-in</h2>
            {passwordOnly.length === 0 ? (
              <p className="ok">Every active account needs a second factor to sign in.</p>
            ) : (
              <>
                <p className="error">
                  {passwordOnly.length} active {passwordOnly.length === 1 ? 'account signs' : 'accounts sign'} in with a password alone:
                </p>
                <ul>
                  {passwordOnly.map((u) => (
                    <li key={u.id}>
                      {nameOf(u.username)}{' '}
                      <span className="muted">
                        ({nameOf(u.username) === u.username ? '' : `${u.username}, `}
                        {rolesInWords(u.roles)})
                      </span>
                    </li>
                  ))}
                </ul>
                <p>
                  <Link to="/admin/staff">Open the staff list</Link> and reset the second factor to require one.
                </p>
              </>
            )}
          </div>
        </>
      ) : null}
    </section>
  );
}
