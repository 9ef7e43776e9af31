// Changing one's password: forced after signing in with a one-time password
// (the server refuses everything else until then), or chosen from the user
// menu. The server ends every session of the user on a change, this one
// too, so the form signs in again with the new password.
import { useEffect, useState } from 'react';
import { ApiError, api } from '../api';
import { MIN_PASSWORD, passwordProblem, setAuth, useUser } from '../auth';
import { navigate } from '../router';
import { AppHeader, signOut } from '../shell';
import { Spinner, toast } from '../ui';

export function PasswordPage(props: {
  /** The password is one-time: nothing else is allowed until it is changed. */
  forced: boolean;
  next: string;
  /** The one-time password just used to sign in, so it need not be typed again. */
  knownCurrent?: string | null;
  onDone: () => void;
}) {
  const user = useUser();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const askCurrent = !props.knownCurrent;

  useEffect(() => {
    document.title = 'Change password · Flowline';
  }, []);

  const problem = next ? passwordProblem(next) : '';
  const mismatch = confirm && next !== confirm ? 'The two new passwords differ.' : '';
  const same = next && next === (props.knownCurrent ?? current) ? 'Choose a password different from the current one.' : '';
  const ready = !!user && (!askCurrent || !!current) && !!next && !problem && next === confirm && !same && !busy;

  const submit = async () => {
    if (!ready || !user) return;
    setBusy(true);
    setError('');
    try {
      await api.changePassword(props.knownCurrent ?? current, next);
    } catch (e) {
      const err = e as ApiError;
      setError(err.status === 403 ? 'The current password is wrong.' : err.message);
      setBusy(false);
      return;
    }
    // Every session of the user ended with the change: sign in again.
    try {
      const s = await api.signIn(user.name, next);
      setAuth({ status: 'signed-in', session: s });
      props.onDone();
      toast('Password changed');
      void navigate(props.next, { force: true, replace: true });
    } catch {
      props.onDone();
      void navigate('#/signin', { force: true, replace: true });
      setAuth({ status: 'signed-out', message: 'Your password was changed. Sign in with the new one.' });
    }
  };

  const form = (
    <main className="narrow-page" aria-labelledby="password-title">
      <h1 id="password-title">{props.forced ? 'Choose your password' : 'Change password'}</h1>
      {props.forced ? (
        <p className="banner info" role="status" data-testid="password-forced">
          {user?.name ? `${user.name}, you` : 'You'} signed in with a one-time password. Choose your own password to continue; until then Flowline shows nothing else.
        </p>
      ) : (
        <p className="hint">Changing your password signs you out everywhere else (other browsers); API tokens keep working.</p>
      )}
      <form
        className="form"
        aria-label="Change password"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {/* For password managers: whose password this is. */}
        <input type="text" name="username" autoComplete="username" value={user?.name ?? ''} readOnly hidden />
        {askCurrent && (
          <label>
            {props.forced ? 'One-time password' : 'Current password'}
            <input type="password" aria-label={props.forced ? 'One-time password' : 'Current password'} autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} autoFocus required />
          </label>
        )}
        <label>
          New password
          {/* Named explicitly: the hint inside the label is its description, not part of its name. */}
          <input
            type="password"
            aria-label="New password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            autoFocus={!askCurrent}
            className={problem || same ? 'invalid' : ''}
            aria-describedby="new-password-hint"
            required
          />
          <span className="hint" id="new-password-hint">
            {problem || same || `At least ${MIN_PASSWORD} characters. A few unrelated words make a good one.`}
          </span>
        </label>
        <label>
          New password again
          <input type="password" aria-label="New password again" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} className={mismatch ? 'invalid' : ''} aria-describedby="confirm-hint" required />
          {mismatch && (
            <span className="hint error-text" id="confirm-hint">
              {mismatch}
            </span>
          )}
        </label>
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <div className="form-actions">
          {props.forced ? (
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          ) : (
            <button type="button" onClick={() => void navigate(props.next, { replace: true })}>
              Cancel
            </button>
          )}
          <button type="submit" className="primary" disabled={!ready}>
            {busy ? <Spinner /> : null} {props.forced ? 'Save and continue' : 'Change password'}
          </button>
        </div>
      </form>
    </main>
  );

  // Forced: no way around it, so no links to pages the server would refuse.
  if (props.forced)
    return (
      <div className="page signin-page">
        <div className="signin-card">{form}</div>
      </div>
    );
  return (
    <div className="page">
      <AppHeader active="password" />
      <div className="page-scroll">{form}</div>
    </div>
  );
}
