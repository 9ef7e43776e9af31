// API tokens: for scripts and CI, each acting as its user with the user's
// role. The secret is shown once, when the token is made; the server keeps
// only its hash. Admins may list and revoke everyone's.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import { isAdmin, useUser } from '../auth';
import type { ApiToken, NewApiToken } from '../types';
import { AppHeader } from '../shell';
import { CopyButton, Modal, Spinner, timeAgo, toast, useAction } from '../ui';

export function TokensPage() {
  const user = useUser();
  const admin = isAdmin(user);
  const [all, setAll] = useState(false);
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState('');
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens(await api.tokens(all));
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, [all]);

  useEffect(() => {
    document.title = 'API tokens · Flowline';
    void load();
  }, [load]);

  return (
    <div className="page">
      <AppHeader active="tokens" />
      <main className="list-main">
        <div className="flows-head">
          <h1>API tokens</h1>
        </div>
        <p className="hint intro">
          A token lets a script or CI job call the API as you, with your role ({user?.role}): send it as <code>Authorization: Bearer &lt;token&gt;</code>. Revoke a token as soon
          as it is not needed or may have leaked.
        </p>
        <CreateToken
          onCreated={(t) => {
            setCreated(t);
            void load();
          }}
        />
        {admin && (
          <label className="check">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Show every user's tokens
          </label>
        )}
        {error && (
          <div className="banner error" role="alert">
            {error} <button onClick={load}>Retry</button>
          </div>
        )}
        {tokens === null && !error && <p className="muted">Loading…</p>}
        {tokens && tokens.length === 0 && <p className="muted empty-note">{all ? 'Nobody has an API token.' : 'You have no API tokens.'}</p>}
        {tokens && tokens.length > 0 && (
          <table className="flows-table" data-testid="tokens-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                {all && <th>User</th>}
                <th>Created</th>
                <th>Last used</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} data-token={t.name}>
                  <td>
                    <strong>{t.name}</strong>
                  </td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  {all && <td>{t.user}</td>}
                  <td className="muted" title={t.created_at}>
                    {timeAgo(t.created_at)}
                  </td>
                  <td className="muted" title={t.last_used_at ?? undefined}>
                    {t.last_used_at ? timeAgo(t.last_used_at) : 'never'}
                  </td>
                  <td className="actions">
                    <button className="small danger" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      {created && <CreatedDialog token={created} onClose={() => setCreated(null)} />}
      {revoking && (
        <RevokeDialog
          token={revoking}
          all={all}
          onClose={() => setRevoking(null)}
          onDone={() => {
            setRevoking(null);
            void load();
          }}
        />
      )}
    </div>
  );
}

function CreateToken({ onCreated }: { onCreated: (t: NewApiToken) => void }) {
  const [name, setName] = useState('');
  const { busy, error, run } = useAction();
  const ok = name.trim().length > 0 && name.trim().length <= 100;
  const submit = async () => {
    if (!ok || busy) return;
    await run(async () => {
      const t = await api.createToken(name.trim());
      setName('');
      onCreated(t);
    });
  };
  return (
    <form
      className="inline-form"
      aria-label="New API token"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        New token's name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" maxLength={100} aria-describedby="token-name-hint" />
      </label>
      <button type="submit" className="primary" disabled={!ok || busy}>
        {busy ? <Spinner /> : null} Create token
      </button>
      <span className="hint" id="token-name-hint">
        What it is for, to tell it apart later.
      </span>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </form>
  );
}

function CreatedDialog({ token, onClose }: { token: NewApiToken; onClose: () => void }) {
  const curl = `curl -H 'Authorization: Bearer ${token.token}' ${location.origin}/api/v1/flows`;
  return (
    <Modal
      title={`Token “${token.name}” created`}
      onClose={onClose}
      testId="token-created"
      wide
      footer={
        <button className="primary" onClick={onClose}>
          I have copied it
        </button>
      }
    >
      <div className="banner warn" role="alert">
        Copy the token now: Flowline keeps only a hash of it and <strong>will not show it again</strong>. If it is lost, revoke it and create another.
      </div>
      <div className="secret-row">
        <input
          className="secret"
          aria-label="Token"
          readOnly
          value={token.token}
          data-testid="token-secret"
          spellCheck={false}
          autoFocus
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={token.token} label="Copy token" />
      </div>
      <p className="hint">For example:</p>
      <pre className="curl">{curl}</pre>
    </Modal>
  );
}

function RevokeDialog({ token, all, onClose, onDone }: { token: ApiToken; all: boolean; onClose: () => void; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const revoke = () =>
    run(async () => {
      await api.deleteToken(token.id, all);
      toast(`Revoked ${token.name}`);
      onDone();
    });
  return (
    <Modal
      title={`Revoke “${token.name}”?`}
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="danger solid" disabled={busy} onClick={revoke}>
            Revoke
          </button>
        </>
      }
    >
      <p>
        Calls with <code>{token.prefix}…</code>
        {all && token.user ? ` (${token.user}'s)` : ''} are refused from now on (401). This cannot be undone.
      </p>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}
