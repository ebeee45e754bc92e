/**
 * Changing one's own password, for every role: the current password proves it is the owner (a
 * computer left signed in is not enough), the new one is typed twice, and the page says what
 * follows: this session stays, every other one ends.
 */
import { useState, type FormEvent } from 'react';
import { PASSWORD_MIN } from '../../../src/api/index.js';
import { send } from '../api';
import { ErrorNote } from '../ui';

export function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | Error | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (next !== again) return setError('The two new passwords are not the same.');
    if (next === current) return setError('The new password must differ from the current one.');
    setBusy(true);
    setError(null);
    try {
      await send('/api/session/password', { body: { currentPassword: current, newPassword: next } });
      setDone(true);
      setCurrent('');
      setNext('');
      setAgain('');
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Change password</h1>
      <p>
        You stay signed in here. Anywhere else this account is signed in (another computer, a phone) is signed out, so whoever knew the old password cannot go
        on using it.
      </p>
      <form onSubmit={(e) => void submit(e)} className="card" aria-label="Change password">
        <label>
          Current password
          <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} required autoComplete="current-password" />
        </label>
        <label>
          New password (at least {PASSWORD_MIN} characters)
          <input type="password" value={next} onChange={(e) => setNext(e.target.value)} required minLength={PASSWORD_MIN} autoComplete="new-password" />
        </label>
        <label>
          New password again
          <input type="password" value={again} onChange={(e) => setAgain(e.target.value)} required minLength={PASSWORD_MIN} autoComplete="new-password" />
        </label>
        <button type="submit" disabled={busy}>
          Change password
        </button>
      </form>
      <ErrorNote error={error} />
      {done ? (
        <p role="status" className="ok">
          Your password is changed. Other sessions of this account have been signed out.
        </p>
      ) : null}
    </section>
  );
}
