import { useState, type FormEvent } from 'react';
import { Me, SessionCreated, type LoginBody } from '../../../src/api/index.js';
import { ApiError, get, post, setToken } from '../api';
import { ErrorNote } from '../ui';

/** Password and second factor in one form; the server tells locked from wrong, and nothing else. */
export function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await post(SessionCreated, '/api/session', { username, password, ...(otp ? { otp } : {}) } satisfies LoginBody);
      setToken(s.token);
      onSignedIn(await get(Me, '/api/me'));
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(
        status === 429 || /locked/i.test((err as Error).message)
          ? `This account is locked after too many failed attempts. ${(err as Error).message}. Try again later or ask your administrator.`
          : status === 401 || status === 400
            ? 'Sign-in failed: the username, password or code is wrong, or the account is disabled or has expired. If it keeps failing, ask your administrator.'
            : `Sign-in is not possible right now (${(err as Error).message}).`,
      );
    } finally {
      setBusy(false);
      setPassword('');
      setOtp('');
    }
  };

  return (
    <main className="login" id="main">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Carewall</h1>
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <label>
          Authenticator code
          <input
            name="otp"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            maxLength={6}
            value={otp}
            onChange={(e) => setOtp(e.target.value.replace(/\D/g, ''))}
            aria-describedby="otp-help"
          />
        </label>
        <p id="otp-help" className="muted">
          The six digits from your authenticator app (required for clinical and administrative roles).
        </p>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
