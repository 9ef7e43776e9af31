// Users, for admins: add one with a role and a one-time password, change
// roles, reset passwords (one-time again), disable, delete. The server
// refuses an admin demoting, disabling or deleting themself; the page says
// so beside those controls instead of offering them.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api } from '../api';
import { MIN_PASSWORD, ROLES, isAdmin, passwordProblem, randomPassword, roleLabel, useUser } from '../auth';
import type { User } from '../types';
import { AppHeader } from '../shell';
import { CopyButton, Modal, Spinner, timeAgo, toast, useAction } from '../ui';

const USER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

type Dialog = { kind: 'add' } | { kind: 'reset'; user: User } | { kind: 'delete'; user: User };

export function UsersPage() {
  const me = useUser();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState('');
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [busyRow, setBusyRow] = useState('');

  const load = useCallback(async (keepError = false) => {
    try {
      setUsers(await api.users());
      if (!keepError) setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  useEffect(() => {
    document.title = 'Users · Flowline';
    if (isAdmin(me)) void load();
  }, [load, me]);

  const patch = async (u: User, change: { role?: string; disabled?: boolean }, done: string) => {
    setBusyRow(u.name);
    setError('');
    try {
      const next = await api.updateUser(u.name, change);
      setUsers((list) => (list ?? []).map((x) => (x.name === u.name ? next : x)));
      toast(done);
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 404) {
        setError(`${u.name} no longer exists (another admin deleted them); the list is reloaded.`);
        void load(true);
      } else setError(`${u.name}: ${err.message}`);
    } finally {
      setBusyRow('');
    }
  };

  if (!isAdmin(me))
    return (
      <div className="page">
        <AppHeader active="users" />
        <main className="list-main">
          <h1>Users</h1>
          <p className="banner error" role="alert">
            Only admins manage users.
          </p>
        </main>
      </div>
    );

  return (
    <div className="page">
      <AppHeader active="users" />
      <main className="list-main">
        <div className="flows-head">
          <h1>Users</h1>
          <div className="spacer" />
          <button className="primary" onClick={() => setDialog({ kind: 'add' })}>
            Add user
          </button>
        </div>
        <p className="hint intro">
          Viewers read flows; editors also save, test, publish and deploy them; admins also manage users and read the audit log. A new user's password, and a reset one,
          is one-time: they choose their own at their next sign-in.
        </p>
        {error && (
          <div className="banner error" role="alert" data-testid="users-error">
            {error}
          </div>
        )}
        {users === null && !error && <p className="muted">Loading…</p>}
        {users && (
          <table className="flows-table users-table" data-testid="users-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>State</th>
                <th>Created</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {users.map((u) => {
                const self = u.name === me?.name;
                const busy = busyRow === u.name;
                return (
                  <tr key={u.id} data-user={u.name}>
                    <td>
                      <strong>{u.name}</strong>
                      {self && <span className="muted"> (you)</span>}
                    </td>
                    <td>
                      <select
                        aria-label={`Role of ${u.name}`}
                        value={u.role}
                        disabled={self || busy}
                        title={self ? 'You cannot change your own role; ask another admin.' : undefined}
                        onChange={(e) => void patch(u, { role: e.target.value }, `${u.name} is now ${e.target.value}`)}
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {roleLabel(r)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <span className="state">
                        {u.disabled ? <span className="pill st-failed">disabled</span> : <span className="pill st-running">active</span>}
                        {u.must_change_password && <span className="pill st-pending" title="Signs in with a one-time password and must choose their own">one-time password</span>}
                      </span>
                    </td>
                    <td className="muted" title={u.created_at}>
                      {timeAgo(u.created_at)}
                    </td>
                    <td className="actions">
                      {self ? (
                        <span className="muted small-text">You cannot disable or delete yourself.</span>
                      ) : (
                        <>
                          <button className="small" disabled={busy} onClick={() => setDialog({ kind: 'reset', user: u })}>
                            Reset password…
                          </button>
                          <button
                            className="small"
                            disabled={busy}
                            onClick={() => void patch(u, { disabled: !u.disabled }, u.disabled ? `${u.name} can sign in again` : `${u.name} is disabled and signed out`)}
                          >
                            {u.disabled ? 'Enable' : 'Disable'}
                          </button>
                          <button className="small danger" disabled={busy} onClick={() => setDialog({ kind: 'delete', user: u })}>
                            Delete…
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </main>
      {dialog?.kind === 'add' && (
        <AddUserDialog
          taken={new Set((users ?? []).map((u) => u.name))}
          onClose={() => setDialog(null)}
          onDone={(u) => {
            setUsers((list) => [...(list ?? []), u].sort((a, b) => a.name.localeCompare(b.name)));
            toast(`Added ${u.name} (${u.role})`);
          }}
        />
      )}
      {dialog?.kind === 'reset' && <ResetDialog user={dialog.user} onClose={() => setDialog(null)} onDone={(u) => setUsers((list) => (list ?? []).map((x) => (x.name === u.name ? u : x)))} />}
      {dialog?.kind === 'delete' && (
        <DeleteUserDialog
          user={dialog.user}
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            setUsers((list) => (list ?? []).filter((x) => x.name !== dialog.user.name));
            toast(`Deleted ${dialog.user.name}`);
          }}
        />
      )}
    </div>
  );
}

/** A one-time password field with a generator, since the admin has to pass it on anyway. */
function OneTimePassword(props: { value: string; onChange: (v: string) => void; label: string }) {
  const problem = props.value ? passwordProblem(props.value) : '';
  return (
    <label>
      {props.label}
      <span className="secret-row">
        <input
          aria-label={props.label}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          spellCheck={false}
          autoComplete="off"
          className={`secret${problem ? ' invalid' : ''}`}
          aria-describedby="otp-hint"
        />
        <button type="button" className="small" onClick={() => props.onChange(randomPassword())}>
          Generate
        </button>
        {props.value && !problem && <CopyButton text={props.value} />}
      </span>
      <span className={`hint${problem ? ' error-text' : ''}`} id="otp-hint">
        {problem || `At least ${MIN_PASSWORD} characters. Give it to the user by a private channel; they must change it when they first sign in.`}
      </span>
    </label>
  );
}

function AddUserDialog(props: { taken: Set<string>; onClose: () => void; onDone: (u: User) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [password, setPassword] = useState(() => randomPassword());
  const { busy, error, run } = useAction();
  const nameBad = name && !USER_NAME_RE.test(name) ? 'Use 1-64 letters, digits and . _ @ -, starting with a letter or digit.' : name && props.taken.has(name) ? `There is a user named “${name}” already.` : '';
  const ok = !!name && !nameBad && !passwordProblem(password) && !busy;
  const submit = async () => {
    if (!ok) return;
    await run(
      async () => {
        const u = await api.createUser({ name, role, password });
        props.onDone(u);
        props.onClose();
      },
      (e) => (e.status === 409 ? `There is a user named “${name}” already.` : e.message),
    );
  };
  return (
    <Modal
      title="Add user"
      onClose={props.onClose}
      testId="add-user"
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={!ok} onClick={submit}>
            {busy ? <Spinner /> : null} Add user
          </button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Name
          <input autoFocus aria-label="User name" value={name} onChange={(e) => setName(e.target.value.trim())} className={nameBad ? 'invalid' : ''} spellCheck={false} autoComplete="off" />
          {nameBad && <span className="hint error-text">{nameBad}</span>}
        </label>
        <label>
          Role
          <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
          </select>
          <span className="hint">{role === 'viewer' ? 'Reads flows, deployments and logs.' : role === 'editor' ? 'Also saves, tests, publishes and deploys flows.' : 'Also manages users and reads the audit log.'}</span>
        </label>
        <OneTimePassword label="Initial password" value={password} onChange={setPassword} />
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

function ResetDialog(props: { user: User; onClose: () => void; onDone: (u: User) => void }) {
  const [password, setPassword] = useState(() => randomPassword());
  const { busy, error, run } = useAction();
  const ok = !passwordProblem(password) && !busy;
  const submit = async () => {
    if (!ok) return;
    await run(async () => {
      const u = await api.updateUser(props.user.name, { password });
      props.onDone(u);
      toast(`${props.user.name}'s password was reset`);
      props.onClose();
    });
  };
  return (
    <Modal
      title={`Reset ${props.user.name}'s password`}
      onClose={props.onClose}
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={!ok} onClick={submit}>
            {busy ? <Spinner /> : null} Reset password
          </button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p>{props.user.name} is signed out everywhere and must choose a new password at the next sign-in. Their API tokens keep working.</p>
        <OneTimePassword label="One-time password" value={password} onChange={setPassword} />
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

function DeleteUserDialog(props: { user: User; onClose: () => void; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const del = () =>
    run(async () => {
      await api.deleteUser(props.user.name);
      props.onDone();
    });
  return (
    <Modal
      title={`Delete ${props.user.name}?`}
      onClose={props.onClose}
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="danger solid" disabled={busy} onClick={del}>
            Delete user
          </button>
        </>
      }
    >
      <p>
        {props.user.name} is signed out, their API tokens are revoked, and they can no longer sign in. Their entries in the audit log stay. This cannot be undone; to
        keep the account but stop its use, disable it instead.
      </p>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}
