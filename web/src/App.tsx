import { Component, useEffect, useState, type ReactNode } from 'react';
import { ApiError, api, onAuthProblem } from './api';
import type { Session } from './types';
import { CatalogContext, makeCatalog, type Catalog } from './catalog';
import { setExprDoc } from './cm/expr';
import { getAuth, setAuth, useAuth } from './auth';
import { hasLeaveGuard, navigate, passwordHref, signinHref, useRoute, type Route } from './router';
import { FlowsPage } from './pages/FlowsPage';
import { EditorPage } from './editor/EditorPage';
import { SignInForm, SignInPage } from './pages/SignInPage';
import { PasswordPage } from './pages/PasswordPage';
import { TokensPage } from './pages/TokensPage';
import { UsersPage } from './pages/UsersPage';
import { AuditPage } from './pages/AuditPage';
import { Modal, Toasts, toast } from './ui';


export function App() {
  const route = useRoute();
  const auth = useAuth();
  const [bootError, setBootError] = useState('');
  // A session ended while a flow had unsaved changes: sign in over the page
  // instead of leaving it.
  const reauth = auth.status === 'signed-out' && !!auth.reauth;
  // The one-time password just signed in with, so the forced change does not ask for it again.
  const [oneTime, setOneTime] = useState<string | null>(null);

  useBoot(setBootError);
  useAuthProblems();
  useSessionRefresh(route);

  const session = auth.status === 'signed-in' ? auth.session : null;
  const mustChange = !!session?.user.must_change_password;

  // Send the user where they have to be: the sign-in page when nobody is
  // signed in, the password form while the password is one-time, back to
  // where they were once signed in.
  useEffect(() => {
    if (auth.status === 'signed-out' && !reauth && route.page !== 'signin') void navigate(signinHref(location.hash), { force: true, replace: true });
    else if (session && mustChange && route.page !== 'password') void navigate(passwordHref(location.hash), { force: true, replace: true });
    else if (session && !mustChange && route.page === 'signin') void navigate(route.next, { force: true, replace: true });
  }, [auth.status, session, mustChange, reauth, route]);

  const catalog = useCatalogOnce(!!session && !mustChange);

  const signedIn = (s: Session, password: string) => {
    setOneTime(s.user.must_change_password ? password : null);
    setAuth({ status: 'signed-in', session: s });
  };

  if (bootError)
    return (
      <div className="fatal">
        <h1>Flowline</h1>
        <p>Cannot reach the server: {bootError}</p>
        <button onClick={() => location.reload()}>Retry</button>
      </div>
    );
  if (auth.status === 'unknown') return <div className="loading">Loading…</div>;
  if (route.page === 'signin' || (auth.status === 'signed-out' && !reauth))
    return (
      <>
        <SignInPage message={auth.status === 'signed-out' ? auth.message : undefined} onSignedIn={signedIn} />
        <Toasts />
      </>
    );
  if (session && (mustChange || route.page === 'password'))
    return (
      <>
        <PasswordPage forced={mustChange} next={route.page === 'password' ? route.next : '#/'} knownCurrent={mustChange ? oneTime : null} onDone={() => setOneTime(null)} />
        <Toasts />
      </>
    );
  if (catalog.error)
    return (
      <div className="fatal">
        <h1>Flowline</h1>
        <p>Cannot load node types: {catalog.error}</p>
        <button onClick={() => location.reload()}>Retry</button>
      </div>
    );
  if (!catalog.value) return <div className="loading">Loading…</div>;
  const lastName = auth.status === 'signed-out' ? auth.lastUser?.name : undefined;
  return (
    <CatalogContext.Provider value={catalog.value}>
      <ErrorBoundary key={route.page === 'editor' ? route.name : route.page}>
        <Page route={route} />
      </ErrorBoundary>
      {reauth && (
        <Modal title="Sign in again" testId="reauth">
          <p>Your session has ended. Sign in again to keep working: your unsaved changes are still here.</p>
          <SignInForm initialName={lastName} onSignedIn={signedIn} submitLabel="Sign in and continue" />
          <p className="hint">
            Or{' '}
            <button className="link" onClick={() => setAuth({ status: 'signed-out', message: 'Your session has ended; sign in again.' })}>
              go to the sign-in page
            </button>{' '}
            (unsaved changes are lost).
          </p>
        </Modal>
      )}
      <Toasts />
    </CatalogContext.Provider>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'editor':
      return <EditorPage key={route.name} name={route.name} />;
    case 'tokens':
      return <TokensPage />;
    case 'users':
      return <UsersPage />;
    case 'audit':
      return <AuditPage />;
    default:
      return <FlowsPage />;
  }
}

/** Asks the server once who is signed in. */
function useBoot(setError: (e: string) => void) {
  useEffect(() => {
    let alive = true;
    api
      .session()
      .then((s) => alive && setAuth({ status: 'signed-in', session: s }))
      .catch((e) => {
        if (!alive) return;
        if ((e as ApiError).status === 401) setAuth({ status: 'signed-out' });
        else setError((e as Error).message);
      });
    return () => {
      alive = false;
    };
  }, [setError]);
}

/**
 * Asks again who is signed in on every change of page and when the tab
 * comes back into view, so that a role an admin changed meanwhile (or a
 * session that ended) shows without a reload.
 */
function useSessionRefresh(route: Route) {
  const key = route.page === 'editor' ? `editor:${route.name}` : route.page;
  useEffect(() => {
    const refresh = () => {
      const a = getAuth();
      if (a.status !== 'signed-in') return;
      // A 401 reaches the sign-in handling through the API's listener.
      api
        .session(false)
        .then((s) => {
          const now = getAuth();
          if (now.status === 'signed-in' && sameSession(now.session, s)) return;
          setAuth({ status: 'signed-in', session: s });
        })
        .catch(() => undefined);
    };
    refresh();
    const onVisible = () => document.visibilityState === 'visible' && refresh();
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [key]);
}

function sameSession(a: Session, b: Session): boolean {
  const u = a.user;
  const v = b.user;
  return a.csrf_token === b.csrf_token && u.id === v.id && u.name === v.name && u.role === v.role && u.must_change_password === v.must_change_password && u.disabled === v.disabled;
}

/** Reacts to refusals of any API call: 401 signs out, a one-time password forces the change. */
function useAuthProblems() {
  useEffect(
    () =>
      onAuthProblem((problem, _message, fresh) => {
        const a = getAuth();
        if (problem === 'switched' && fresh) {
          setAuth({ status: 'signed-in', session: fresh });
          toast(`${fresh.user.name} signed in in another tab of this browser; that last action was not sent. This tab now acts as ${fresh.user.name}.`, 'error');
        } else if (problem === 'password') {
          if (a.status === 'signed-in') setAuth({ status: 'signed-in', session: { ...a.session, user: { ...a.session.user, must_change_password: true } } });
        } else if (problem === 'signin' && a.status !== 'signed-out') {
          const was = a.status === 'signed-in' ? a.session.user : undefined;
          // Polls in the background go on failing; only the first 401 acts.
          setAuth({ status: 'signed-out', message: was ? 'Your session has ended; sign in again.' : undefined, lastUser: was, reauth: !!was && hasLeaveGuard() });
        }
      }),
    [],
  );
}

/** Node types and server info, loaded once the user may read them. */
function useCatalogOnce(ready: boolean): { value: Catalog | null; error: string } {
  const [value, setValue] = useState<Catalog | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!ready || value) return;
    let alive = true;
    Promise.all([api.nodeTypes(), api.info().catch(() => null)])
      .then(([nodeTypes, info]) => {
        if (!alive) return;
        setExprDoc(nodeTypes.expr);
        setValue(makeCatalog(nodeTypes, info));
        setError('');
      })
      .catch((e) => {
        // A 401 here is handled by the sign-in redirect; anything else is shown.
        if (alive && (e as ApiError).status !== 401) setError((e as Error).message);
      });
    return () => {
      alive = false;
    };
  }, [ready, value]);
  return { value, error };
}

/** Shows what went wrong instead of a blank page; the work on the server is safe. */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="fatal" role="alert">
        <h1>Something went wrong in the designer</h1>
        <p>{this.state.error.message}</p>
        <p className="muted">What was saved is safe on the server. Unsaved edits on this page may be lost.</p>
        <button onClick={() => location.reload()}>Reload</button>{' '}
        <button onClick={() => (location.hash = '#/')}>Back to flows</button>
      </div>
    );
  }
}
