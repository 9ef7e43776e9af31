// Signing in: the page anyone not signed in lands on, and the same form in
// a dialog when a session ends while a flow has unsaved changes (so that
// signing in again does not lose them).
import { useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import type { Session } from '../types';
import { Spinner } from '../ui';

/** What to tell someone whose sign-in was refused. */
export function signInError(e: unknown): string {
  const err = e as ApiError;
  if (err.status === 401) return 'Wrong name or password.';
  if (err.status === 429) {
    const wait = err.retryAfter ? `${err.retryAfter} second${err.retryAfter === 1 ? '' : 's'}` : 'a little';
    return `Too many sign-in attempts from here. Wait ${wait}, then try again.`;
  }
  if (err.status === 0) return `The server cannot be reached: ${err.message.replace(/^cannot reach the server: /, '')}`;
  return err.message || 'Signing in failed.';
}

export function SignInForm(props: { initialName?: string; onSignedIn: (s: Session, password: string) => void; submitLabel?: string }) {
  const [name, setName] = useState(props.initialName ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    (props.initialName ? passwordInput : nameInput).current?.focus();
    // Once, when the form appears.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const submit = async () => {
    if (!name.trim() || !password || busy) return;
    setBusy(true);
    setError('');
    try {
      const s = await api.signIn(name.trim(), password);
      props.onSignedIn(s, password);
    } catch (e) {
      setError(signInError(e));
      setBusy(false);
      // The password was wrong or refused: type it again; the name stays.
      setPassword('');
      passwordInput.current?.focus();
    }
  };

  return (
    <form
      className="form signin-form"
      aria-label="Sign in"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        Name
        <input ref={nameInput} name="username" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} autoCapitalize="none" required />
      </label>
      <label>
        Password
        <input ref={passwordInput} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      {error && (
        <div className="banner error" role="alert" data-testid="signin-error">
          {error}
        </div>
      )}
      <button type="submit" className="primary" disabled={busy || !name.trim() || !password}>
        {busy ? <Spinner /> : null} {props.submitLabel ?? 'Sign in'}
      </button>
    </form>
  );
}

export function SignInPage(props: { message?: string; onSignedIn: (s: Session, password: string) => void }) {
  useEffect(() => {
    document.title = 'Sign in · Flowline';
  }, []);
  return (
    <div className="page signin-page">
      <main className="signin-card" aria-labelledby="signin-title">
        <div className="brand signin-brand">
          <span className="logo" aria-hidden="true" /> Flowline
        </div>
        <h1 id="signin-title">Sign in</h1>
        {props.message && (
          <p className="banner info" role="status" data-testid="signin-message">
            {props.message}
          </p>
        )}
        <SignInForm onSignedIn={props.onSignedIn} />
        <p className="hint">
          No account? An admin adds users in Flowline's Users page. On a new server, the first admin's one-time password is in the server's log (or set <code>FLOWLINE_ADMIN_USER</code> and{' '}
          <code>FLOWLINE_ADMIN_PASSWORD</code>).
        </p>
      </main>
    </div>
  );
}
