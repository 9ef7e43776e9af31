// Who may call the flow's published endpoint: whether the gateway requires
// an API key (X-API-Key), the endpoint's keys (the secret shown once, when
// made) and the browser origins CORS allows. Changes reach the gateway at
// once, for every deployment of the flow. Viewers see it read-only.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { EndpointAccess, FlowKey, Info, NewFlowKey } from '../types';
import { CopyButton, ListEditor, Modal, Spinner, timeAgo, toast, useAction } from '../ui';
import { cleanOrigins, curlFor, originProblem, rateLabel, rateProblem } from '../endpoint';
import { RoleNote, why } from '../shell';

interface Props {
  flowName: string;
  route: { method: string; path: string };
  info: Info | null;
  sampleBody?: string;
  /** Why this user may not change access (a viewer), or ''. */
  blocked?: string;
}

const NOTE = 'access-role-note';

export function AccessPanel(props: Props) {
  const { flowName } = props;
  const blocked = props.blocked ?? '';
  const because = why(blocked, NOTE);
  const [access, setAccess] = useState<EndpointAccess | null>(null);
  const [error, setError] = useState('');
  const [switching, setSwitching] = useState(false);
  const [origins, setOrigins] = useState<string[]>([]);
  const [savingOrigins, setSavingOrigins] = useState(false);
  const [created, setCreated] = useState<NewFlowKey | null>(null);
  const [revoking, setRevoking] = useState<FlowKey | null>(null);

  const load = useCallback(async () => {
    try {
      const a = await api.access(flowName);
      setAccess(a);
      setOrigins(a.cors_origins);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, [flowName]);

  useEffect(() => {
    void load();
  }, [load]);

  const gateway = props.info?.gateway_url ?? '';
  const liveURL = gateway ? gateway.replace(/\/$/, '') + props.route.path : props.route.path;

  const put = async (requireKey: boolean, corsOrigins: string[]) => {
    const a = await api.setAccess(flowName, { require_key: requireKey, cors_origins: corsOrigins });
    setAccess(a);
    return a;
  };

  const toggleKey = async (on: boolean) => {
    if (!access) return;
    setSwitching(true);
    setError('');
    try {
      await put(on, access.cors_origins);
      toast(on ? 'The endpoint requires an API key now' : 'The endpoint is open to every caller now');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSwitching(false);
    }
  };

  const cleaned = cleanOrigins(origins);
  const originsBad = origins.some((o) => o.trim() && originProblem(o));
  const originsChanged = !!access && cleaned.join('\n') !== access.cors_origins.join('\n');
  const saveOrigins = async () => {
    if (!access) return;
    setSavingOrigins(true);
    setError('');
    try {
      const a = await put(access.require_key, cleaned);
      setOrigins(a.cors_origins);
      toast('Saved the allowed origins');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSavingOrigins(false);
    }
  };

  return (
    <div className="access-panel" data-testid="access-panel">
      <section>
        <h3>Who may call the endpoint</h3>
        <p className="hint">
          Every deployment of this flow answers at <code>{liveURL}</code>. It is open to anyone who can reach the gateway until it requires a key. Changes take effect at
          once.
        </p>
        <RoleNote reason={blocked && `Changing who may call the endpoint needs the editor role. ${blocked}`} id={NOTE} testId="access-blocked" />
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        {!access && !error && <p className="muted">Loading…</p>}
        {access && (
          <>
            <label className="switch">
              <input
                type="checkbox"
                role="switch"
                aria-checked={access.require_key}
                checked={access.require_key}
                disabled={switching || !!blocked}
                onChange={(e) => void toggleKey(e.target.checked)}
                data-testid="require-key"
                {...because}
              />
              <span className="track" aria-hidden="true" />
              Require an API key {switching && <Spinner />}
            </label>
            <p className="hint">
              Callers send the key in the <code>X-API-Key</code> header. Without a valid one the gateway answers 401; past a key's rate, 429 with Retry-After. The header never
              reaches the flow.
            </p>
            {access.require_key && access.keys.length === 0 && (
              <div className="banner warn" data-testid="no-keys">
                No keys yet: every call is refused (401) until you create one below.
              </div>
            )}
          </>
        )}
      </section>

      {access && (
        <section>
          <h3>API keys</h3>
          {!access.require_key && access.keys.length > 0 && <p className="hint">Not required now: calls without a key are let through too.</p>}
          <CreateKey flowName={flowName} blocked={blocked} onCreated={(k) => {
            setCreated(k);
            void load();
          }} />
          {access.keys.length === 0 ? (
            <p className="muted small-text">No keys.</p>
          ) : (
            <table className="versions keys-table" data-testid="keys-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Key</th>
                  <th>Rate</th>
                  <th>Created</th>
                  <th aria-label="Actions" />
                </tr>
              </thead>
              <tbody>
                {access.keys.map((k) => (
                  <tr key={k.id} data-key={k.name}>
                    <td>
                      <strong>{k.name}</strong>
                    </td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td className="nowrap">{rateLabel(k.rate_per_minute)}</td>
                    <td className="muted" title={k.created_at}>
                      {timeAgo(k.created_at)}
                    </td>
                    <td className="actions">
                      <button className="small danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`} disabled={!!blocked} {...because}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}

      {access && (
        <section>
          <h3>Browser origins (CORS)</h3>
          <p className="hint">
            Web pages on these origins may call the endpoint from the browser: <code>https://shop.example</code> (scheme://host[:port]), or <code>*</code> for any. Other
            callers (servers, curl) are not affected.
          </p>
          <ListEditor
            label="Origin"
            addLabel="origin"
            items={origins}
            placeholder="https://shop.example"
            problem={originProblem}
            onChange={setOrigins}
            disabled={!!blocked}
            testId="cors-origins"
          />
          {origins.length === 0 && <p className="muted small-text">None: browsers on other sites may not call it.</p>}
          {!blocked && (
            <div className="form-actions">
              <button className="primary small" disabled={!originsChanged || originsBad || savingOrigins} onClick={saveOrigins} data-testid="save-origins">
                {savingOrigins ? <Spinner /> : null} Save origins
              </button>
              {originsChanged && (
                <button className="small" onClick={() => setOrigins(access.cors_origins)} disabled={savingOrigins}>
                  Undo changes
                </button>
              )}
            </div>
          )}
        </section>
      )}

      {created && <CreatedKeyDialog k={created} method={props.route.method} url={liveURL} body={props.sampleBody} onClose={() => setCreated(null)} />}
      {revoking && (
        <RevokeKeyDialog
          flowName={flowName}
          k={revoking}
          requireKey={!!access?.require_key}
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

function CreateKey({ flowName, blocked, onCreated }: { flowName: string; blocked: string; onCreated: (k: NewFlowKey) => void }) {
  const [name, setName] = useState('');
  const [rate, setRate] = useState('');
  const { busy, error, run } = useAction();
  const badRate = rateProblem(rate);
  const ok = name.trim().length > 0 && name.trim().length <= 100 && !badRate;
  const submit = async () => {
    if (!ok || busy || blocked) return;
    await run(async () => {
      const k = await api.createKey(flowName, { name: name.trim(), rate_per_minute: Number(rate.trim() || '0') });
      setName('');
      setRate('');
      onCreated(k);
    });
  };
  return (
    <form
      className="inline-form key-form"
      aria-label="New API key"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        New key's name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="shop-frontend" maxLength={100} disabled={!!blocked} />
      </label>
      <label>
        Calls per minute
        <input
          value={rate}
          onChange={(e) => setRate(e.target.value)}
          placeholder="0 = no limit"
          inputMode="numeric"
          className={badRate ? 'invalid' : ''}
          disabled={!!blocked}
          aria-describedby="key-rate-hint"
        />
      </label>
      <button type="submit" className="primary" disabled={!ok || busy || !!blocked} {...why(blocked, NOTE)}>
        {busy ? <Spinner /> : null} Create key
      </button>
      <span className={`hint${badRate ? ' error-text' : ''}`} id="key-rate-hint">
        {badRate || 'Per key; past it the gateway answers 429. Empty or 0: no limit.'}
      </span>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </form>
  );
}

function CreatedKeyDialog({ k, method, url, body, onClose }: { k: NewFlowKey; method: string; url: string; body?: string; onClose: () => void }) {
  const curl = curlFor(method, url, body, k.key);
  return (
    <Modal
      title={`Key “${k.name}” created`}
      onClose={onClose}
      testId="key-created"
      wide
      footer={
        <button className="primary" onClick={onClose}>
          I have copied it
        </button>
      }
    >
      <div className="banner warn" role="alert">
        Copy the key now: Flowline keeps only a hash of it and <strong>won't show it again</strong>. If it is lost, revoke it and create another.
      </div>
      <div className="secret-row">
        <input className="secret" aria-label="API key" readOnly value={k.key} data-testid="key-secret" spellCheck={false} autoFocus onFocus={(e) => e.currentTarget.select()} />
        <CopyButton text={k.key} label="Copy key" />
      </div>
      <p className="hint">
        Callers send it as the <code>X-API-Key</code> header{k.rate_per_minute > 0 ? `, at most ${rateLabel(k.rate_per_minute)}` : ''}. For example:
      </p>
      <pre className="curl" data-testid="key-curl">
        {curl}
      </pre>
      <CopyButton text={curl} label="Copy curl" />
    </Modal>
  );
}

function RevokeKeyDialog(props: { flowName: string; k: FlowKey; requireKey: boolean; onClose: () => void; onDone: () => void }) {
  const { k } = props;
  const { busy, error, run } = useAction();
  const revoke = () =>
    run(async () => {
      await api.deleteKey(props.flowName, k.id);
      toast(`Revoked ${k.name}`);
      props.onDone();
    });
  return (
    <Modal
      title={`Revoke “${k.name}”?`}
      onClose={props.onClose}
      testId="revoke-key"
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="danger solid" disabled={busy} onClick={revoke}>
            Revoke
          </button>
        </>
      }
    >
      <p>
        Calls with <code>{k.prefix}…</code> are refused from now on{props.requireKey ? ' (401)' : ' once the endpoint requires a key'}. This cannot be undone.
      </p>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}
