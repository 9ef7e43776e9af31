// Publish (JS or Go), the versions, deploying (with rollback), the
// deployments' status and a live log view. A deploy sends plain variables,
// secrets, datasources and the egress allow-list; the server never shows
// secret values or datasource URLs back, so each deploy enters them again.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import type { Deployment, EndpointAccess, Info, LogLine, Problem, Version } from '../types';
import { CopyButton, ListEditor, Modal, PairsEditor, Spinner, filledPairs, objectToPairs, pairsToObject, timeAgo, toast, useElapsed, type Pair } from '../ui';
import { API_KEY_PLACEHOLDER, allowEntryProblem, allowListProblem, cleanAllowList, curlFor, variablesProblem } from '../endpoint';
import { EgressHint } from './TestPanel';
import { ProblemList } from './ProblemsPanel';
import { isError } from '../problems';
import { bundleTargets, chooseTarget, loadTarget, saveTarget, targetLabel } from '../targets';
import { RoleNote, why } from '../shell';

/** A publish refused because the flow was saved since the editor loaded it. */
interface PublishConflict {
  mine: number;
  current?: number;
  message: string;
}

interface Props {
  flowName: string;
  dirty: boolean;
  /** The name was changed and not saved yet: saving moves the flow. */
  renaming: boolean;
  save: () => Promise<boolean>;
  /** The saved revision the editor is at (read after save, so Save & publish gets the new one). */
  revision: () => number;
  /** Loads the latest saved revision into the editor (after a publish conflict). */
  onReload: () => Promise<void>;
  route: { method: string; path: string };
  info: Info | null;
  onPickProblem: (p: Problem) => void;
  onProblems: (p: Problem[]) => void;
  sampleBody?: string;
  /** Why this user may not publish or deploy (a viewer), or ''. */
  blocked?: string;
}

export function PublishPanel(props: Props) {
  const { flowName } = props;
  const blocked = props.blocked ?? '';
  const because = why(blocked, 'publish-role-note');
  const targets = bundleTargets(props.info);
  // Remembered per flow: this panel is unmounted whenever another tab shows.
  const [remembered, setRemembered] = useState(() => loadTarget(flowName));
  const target = chooseTarget(remembered, targets);
  const pickTarget = (t: string) => {
    setRemembered(t);
    saveTarget(flowName, t);
  };
  const [busy, setBusy] = useState(false);
  const elapsed = useElapsed(busy);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState('');
  const [conflict, setConflict] = useState<PublishConflict | null>(null);
  const [reloading, setReloading] = useState(false);
  const [buildLog, setBuildLog] = useState('');
  const [published, setPublished] = useState<Version | null>(null);
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [deployments, setDeployments] = useState<Deployment[]>([]);
  const [deployFor, setDeployFor] = useState<number | null>(null);
  const [logsFor, setLogsFor] = useState<string | null>(null);
  // Whether callers need an API key, for the curl example (the Access tab changes it).
  const [access, setAccess] = useState<EndpointAccess | null>(null);
  useEffect(() => {
    let alive = true;
    api
      .access(flowName)
      .then((a) => alive && setAccess(a))
      .catch(() => {
        /* the example then goes without the key header */
      });
    return () => {
      alive = false;
    };
  }, [flowName]);

  const loadVersions = useCallback(async () => {
    try {
      setVersions(await api.versions(flowName));
    } catch (e) {
      setError((e as Error).message);
    }
  }, [flowName]);

  const loadDeployments = useCallback(async () => {
    try {
      setDeployments(await api.deployments(flowName));
    } catch {
      /* shown as stale; the next poll retries */
    }
  }, [flowName]);

  useEffect(() => {
    void loadVersions();
    void loadDeployments();
    const h = setInterval(loadDeployments, 2000);
    return () => clearInterval(h);
  }, [loadVersions, loadDeployments]);

  const publish = async () => {
    setError('');
    setProblems([]);
    setBuildLog('');
    setPublished(null);
    setConflict(null);
    if (props.dirty && !(await props.save())) {
      setError('Save the flow first: publishing uses the saved draft.');
      return;
    }
    // Read after the save: Save & publish publishes the revision it just saved.
    const revision = props.revision();
    setBusy(true);
    try {
      const v = await api.publish(flowName, target, revision);
      setPublished(v);
      toast(`Published version ${v.version} (${v.target})`);
      await loadVersions();
    } catch (e) {
      const err = e as ApiError;
      const ps = err.problems();
      if (err.status === 409) {
        // Saved elsewhere since this editor loaded it: publishing now would
        // publish something nobody here has seen, so nothing was published.
        const cur = err.body?.current_revision ?? err.body?.revision;
        setConflict({ mine: revision, current: typeof cur === 'number' ? cur : undefined, message: err.message });
      } else if (err.status === 422 && ps.some(isError)) {
        setProblems(ps);
        props.onProblems(ps);
        setError('The flow has problems; publishing needs a valid flow.');
      } else setError(err.message);
      const log = err.body?.build_log;
      if (typeof log === 'string' && log) setBuildLog(log);
    } finally {
      setBusy(false);
    }
  };

  const gateway = props.info?.gateway_url ?? '';
  const liveURL = gateway ? gateway.replace(/\/$/, '') + props.route.path : '';
  return (
    <div className="publish-panel" data-testid="publish-panel">
      <section>
        <h3>Publish</h3>
        <p className="hint">Publishing turns the saved flow into an immutable version: a JavaScript bundle (fast to build) or a Go binary (fastest at run time, takes a while to build).</p>
        <div className="radio-row" role="radiogroup" aria-label="Target">
          {targets.map((t) => (
            <label key={t.name} className={t.available ? '' : 'disabled'} data-testid={`target-${t.name}`}>
              <input
                type="radio"
                name="target"
                value={t.name}
                disabled={!t.available || busy}
                checked={target === t.name}
                onChange={() => pickTarget(t.name)}
                aria-describedby={t.available ? undefined : `target-reason-${t.name}`}
              />{' '}
              {targetLabel(t.name)}
            </label>
          ))}
          <button className="primary" disabled={busy || props.renaming || !!blocked} onClick={publish} data-testid="publish" {...because}>
            {busy ? (
              <>
                <Spinner /> Publishing… {elapsed.toFixed(1)} s
              </>
            ) : props.dirty ? (
              'Save & publish'
            ) : (
              'Publish'
            )}
          </button>
        </div>
        {targets
          .filter((t) => !t.available)
          .map((t) => (
            <p key={t.name} className="hint target-reason" id={`target-reason-${t.name}`} data-testid={`target-reason-${t.name}`}>
              {targetLabel(t.name)} is not available on this server: {t.reason || 'the server cannot build it.'}
            </p>
          ))}
        <RoleNote reason={blocked && `Publishing and deploying need the editor role. ${blocked}`} id="publish-role-note" testId="publish-blocked" />
        {props.renaming && <p className="hint">The flow's name was changed: save it (Ctrl+S) before publishing.</p>}
        {busy && target === 'go' && <p className="hint">Building the Go binary; this can take a minute the first time.</p>}
        {published && (
          <div className="banner ok" role="status" data-testid="published">
            Published version {published.version} ({published.target}){published.revision ? ` from revision ${published.revision}` : ''}.{' '}
            <button className="link" onClick={() => setDeployFor(published.version)} disabled={!!blocked} {...because}>
              Deploy it…
            </button>
          </div>
        )}
        {conflict && (
          <div className="banner error" role="alert" data-testid="publish-conflict">
            <strong>The flow changed since you loaded it.</strong> It was saved elsewhere
            {conflict.current ? ` and is now at revision ${conflict.current}` : ''}; this editor shows revision {conflict.mine}. Nothing was published: reload to see the
            latest, check it, then publish again.
            {conflict.message && <div className="small-text">{conflict.message}</div>}
            <div className="banner-actions">
              <button
                className="small"
                disabled={reloading}
                data-testid="publish-conflict-reload"
                onClick={async () => {
                  setReloading(true);
                  try {
                    await props.onReload();
                    setConflict(null);
                  } catch (e) {
                    setError((e as Error).message);
                  } finally {
                    setReloading(false);
                  }
                }}
              >
                {props.dirty ? 'Reload the latest (discards your unsaved changes)' : 'Reload the latest'}
              </button>
            </div>
          </div>
        )}
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        {problems.length > 0 && <ProblemList problems={problems} onPick={props.onPickProblem} testId="publish-problems" />}
        {buildLog && (
          <details open>
            <summary>Build log</summary>
            <pre className="build-log">{buildLog}</pre>
          </details>
        )}
      </section>

      <section>
        <h3>Deployments</h3>
        {deployments.length === 0 && <p className="muted">Not deployed. Publish a version, then deploy it.</p>}
        {deployments.map((d) => (
          <DeploymentCard
            key={d.id}
            d={d}
            liveURL={liveURL}
            method={props.route.method}
            body={props.sampleBody}
            onLogs={() => setLogsFor(logsFor === d.id ? null : d.id)}
            logsOpen={logsFor === d.id}
            onStopped={loadDeployments}
            blocked={blocked}
            requireKey={!!access?.require_key}
          />
        ))}
      </section>

      <section>
        <h3>Versions</h3>
        {versions === null && <p className="muted">Loading…</p>}
        {versions?.length === 0 && <p className="muted">No versions yet.</p>}
        {versions && versions.length > 0 && (
          <table className="versions">
            <tbody>
              {versions.map((v) => {
                const live = deployments.find((d) => d.version === v.version);
                return (
                  <tr key={v.version} data-version={v.version}>
                    <td data-testid="version-label">
                      <strong>v{v.version}</strong> · {v.target}
                      {v.revision ? ` · from revision ${v.revision}` : ''}
                    </td>
                    <td className="muted" title={v.created_at}>
                      {timeAgo(v.created_at)}
                    </td>
                    <td className="actions">
                      {live ? <span className="pill st-running">deployed</span> : null}
                      <button className="small" onClick={() => setDeployFor(v.version)} disabled={!!blocked} {...because}>
                        {deployments.length && !live ? 'Deploy this version (rollback)' : 'Deploy…'}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      {deployFor !== null && versions && (
        <DeployDialog
          flowName={flowName}
          versions={versions}
          initialVersion={deployFor}
          info={props.info}
          current={deployments[0]}
          onClose={() => setDeployFor(null)}
          onDeployed={() => {
            setDeployFor(null);
            void loadDeployments();
          }}
          liveURL={liveURL}
        />
      )}
    </div>
  );
}

function DeploymentCard(props: {
  d: Deployment;
  liveURL: string;
  method: string;
  body?: string;
  onLogs: () => void;
  logsOpen: boolean;
  onStopped: () => void;
  blocked: string;
  /** Callers need an API key: the example sends the X-API-Key header. */
  requireKey: boolean;
}) {
  const { d } = props;
  const [full, setFull] = useState<Deployment | null>(null);
  const [stopping, setStopping] = useState(false);
  useEffect(() => {
    let alive = true;
    const tick = async () => {
      try {
        const x = await api.deployment(d.id);
        if (alive) setFull(x);
      } catch {
        /* gone or unreachable: the list refresh will tell */
      }
    };
    void tick();
    const h = setInterval(tick, 2000);
    return () => {
      alive = false;
      clearInterval(h);
    };
  }, [d.id]);
  const x = full ?? d;
  const url = props.liveURL;
  const curl = curlFor(props.method, url, props.body, props.requireKey ? API_KEY_PLACEHOLDER : undefined);
  return (
    <div className="deployment" data-testid="deployment" data-status={x.status}>
      <div className="dep-head">
        <span className={`pill st-${x.status}`}>{x.status}</span>
        <strong>v{x.version}</strong> on {x.target}
        <span className="muted small-text">{x.id}</span>
        <span className="spacer" />
        <button className="small" onClick={props.onLogs}>
          {props.logsOpen ? 'Hide logs' : 'Logs'}
        </button>
        <button
          className="small danger"
          disabled={stopping || !!props.blocked}
          {...why(props.blocked, 'publish-role-note')}
          onClick={async () => {
            setStopping(true);
            try {
              await api.undeploy(d.id);
              toast('Deployment stopped');
              props.onStopped();
            } catch (e) {
              toast((e as Error).message, 'error');
            } finally {
              setStopping(false);
            }
          }}
        >
          Stop
        </button>
      </div>
      {x.message && <p className="muted small-text">{x.message}</p>}
      {url && (
        <div className="live-url">
          <span className="muted">Live URL</span>{' '}
          <a href={url} target="_blank" rel="noreferrer" data-testid="live-url">
            {url}
          </a>
          <pre className="curl" data-testid="curl">
            {curl}
          </pre>
          <CopyButton text={curl} label="Copy curl" />
          {props.requireKey && (
            <p className="hint" data-testid="key-required">
              Callers need an API key in the X-API-Key header; make one in the Access tab.
            </p>
          )}
        </div>
      )}
      <DeploymentConfig d={x} />
      {x.scaling && (
        <p className="muted small-text">
          scaling {x.scaling.min ?? 1}–{x.scaling.max ?? 1} instances
        </p>
      )}
      {(x.instances?.length ?? 0) > 0 && (
        <table className="instances">
          <thead>
            <tr>
              <th>instance</th>
              <th>address</th>
              <th>state</th>
              <th>restarts</th>
            </tr>
          </thead>
          <tbody>
            {x.instances!.map((i) => (
              <tr key={i.id}>
                <td>{i.id}</td>
                <td>{i.addr}</td>
                <td>
                  <span className={`pill st-${i.state}`}>{i.state}</span>
                </td>
                <td>{i.restarts ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.logsOpen && <LogsView id={d.id} />}
    </div>
  );
}

/** What a deployment runs with: variables as they are, secrets and datasources by name only, the egress allow-list. */
function DeploymentConfig({ d }: { d: Deployment }) {
  const env = Object.entries(d.env ?? {});
  const secrets = Object.keys(d.secrets ?? {});
  const ds = Object.keys(d.datasources ?? {});
  const allow = d.egress?.allow ?? [];
  return (
    <dl className="dep-config" data-testid="deployment-config">
      {env.length > 0 && (
        <>
          <dt>Variables</dt>
          <dd data-testid="dep-env">
            {env.map(([k, v]) => (
              <code key={k}>
                {k}={v}
              </code>
            ))}
          </dd>
        </>
      )}
      {secrets.length > 0 && (
        <>
          <dt>Secrets</dt>
          <dd data-testid="dep-secrets">
            {secrets.map((k) => (
              <span key={k} className="set-name">
                <code>{k}</code>: set
              </span>
            ))}
          </dd>
        </>
      )}
      {ds.length > 0 && (
        <>
          <dt>Datasources</dt>
          <dd data-testid="dep-datasources">
            {ds.map((k) => (
              <span key={k} className="set-name">
                <code>{k}</code>: set
              </span>
            ))}
          </dd>
        </>
      )}
      <dt>Internal addresses</dt>
      <dd data-testid="dep-egress">{allow.length ? allow.map((a) => <code key={a}>{a}</code>) : <span className="muted">none (public addresses only)</span>}</dd>
    </dl>
  );
}

const LEVELS = ['', 'debug', 'info', 'warn', 'error'];

function logKey(l: LogLine) {
  return `${l.time}|${l.instance}|${l.node}|${l.level}|${l.message}`;
}

export function LogsView({ id }: { id: string }) {
  const [traceId, setTraceId] = useState('');
  const [level, setLevel] = useState('');
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'retrying' | 'closed'>('connecting');
  const [filter, setFilter] = useState({ traceId: '', level: '' });
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const h = setTimeout(() => setFilter({ traceId: traceId.trim(), level }), 300);
    return () => clearTimeout(h);
  }, [traceId, level]);

  useEffect(() => {
    let alive = true;
    let es: EventSource | null = null;
    const seen = new Set<string>();
    setLines([]);
    setState('connecting');
    const add = (batch: LogLine[]) => {
      const fresh = batch.filter((l) => {
        const k = logKey(l);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      if (fresh.length) setLines((xs) => [...xs, ...fresh].slice(-2000));
    };
    (async () => {
      let since = '';
      try {
        const res = await fetch(`/api/v1/deployments/${encodeURIComponent(id)}/logs?` + new URLSearchParams({ ...(filter.traceId ? { trace_id: filter.traceId } : {}), ...(filter.level ? { level: filter.level } : {}) }));
        if (res.ok) {
          const backlog = ((await res.json()) ?? []) as LogLine[];
          add(backlog);
          since = backlog.at(-1)?.time ?? '';
        }
      } catch {
        /* the stream below still tries */
      }
      if (!alive) return;
      const p = new URLSearchParams({ follow: '1' });
      if (filter.traceId) p.set('trace_id', filter.traceId);
      if (filter.level) p.set('level', filter.level);
      if (since) p.set('since', since);
      es = new EventSource(`/api/v1/deployments/${encodeURIComponent(id)}/logs?${p}`);
      es.onopen = () => alive && setState('live');
      es.onerror = () => {
        if (!alive) return;
        setState(es?.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
      };
      es.onmessage = (ev) => {
        const batch: LogLine[] = [];
        for (const line of String(ev.data).split('\n')) {
          if (!line.trim()) continue;
          try {
            batch.push(JSON.parse(line));
          } catch {
            batch.push({ message: line });
          }
        }
        add(batch);
      };
    })();
    return () => {
      alive = false;
      es?.close();
    };
  }, [id, filter]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div className="logs-view" data-testid="logs-view">
      <div className="logs-filters">
        <input aria-label="Filter by trace id" placeholder="trace id" value={traceId} onChange={(e) => setTraceId(e.target.value)} spellCheck={false} />
        <select aria-label="Filter by level" value={level} onChange={(e) => setLevel(e.target.value)}>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l || 'all levels'}
            </option>
          ))}
        </select>
        <span className={`live-dot ${state}`} title={state} /> <span className="muted small-text">{state}</span>
        <span className="spacer" />
        <button className="small" onClick={() => setLines([])}>
          Clear
        </button>
      </div>
      <div
        className="log-box"
        ref={box}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 && <p className="muted small-text">No log lines yet. Call the live URL to see its logs here.</p>}
        {lines.map((l, i) => (
          <div key={i} className={`log-line lvl-${l.level}`}>
            <span className="t">{l.time ? new Date(l.time).toLocaleTimeString() : ''}</span>
            <span className="lvl">{l.level}</span>
            {l.node && <code>{l.node}</code>}
            <span className="msg">{l.message}</span>
            {l.trace_id && (
              <button className="link trace" title="Show this trace only" onClick={() => setTraceId(l.trace_id!)}>
                {l.trace_id.slice(0, 8)}
              </button>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

function DeployDialog(props: {
  flowName: string;
  versions: Version[];
  initialVersion: number;
  info: Info | null;
  current?: Deployment;
  onClose: () => void;
  onDeployed: (d: Deployment) => void;
  liveURL: string;
}) {
  const cur = props.current;
  const [version, setVersion] = useState(props.initialVersion);
  const [target, setTarget] = useState(cur?.target ?? 'local');
  const [env, setEnv] = useState<Pair[]>(objectToPairs(cur?.env));
  // Secrets and datasource URLs never come back from the server: the names
  // the current deployment has are offered again, the values are typed again.
  const setSecrets = Object.keys(cur?.secrets ?? {});
  const setDatasources = Object.keys(cur?.datasources ?? {});
  const [secrets, setSecretPairs] = useState<Pair[]>(setSecrets.map((key) => ({ key, value: '' })));
  const [ds, setDs] = useState<Pair[]>(setDatasources.map((key) => ({ key, value: '' })));
  const [allow, setAllow] = useState<string[]>(cur?.egress?.allow ?? []);
  const [min, setMin] = useState(String(cur?.scaling?.min ?? 1));
  const [max, setMax] = useState(String(cur?.scaling?.max ?? 1));
  const [deadline, setDeadline] = useState(cur?.deadline ?? '30s');
  const [busy, setBusy] = useState(false);
  const elapsed = useElapsed(busy);
  const [error, setError] = useState('');
  const targets = props.info?.targets ?? ['local'];
  const minN = Number(min);
  const maxN = Number(max);
  const scaleBad = !Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 0 || maxN < 1 || minN > maxN;
  const deadlineBad = !/^\d+(\.\d+)?(ms|s|m|h)$/.test(deadline.trim());
  const varsProblem = variablesProblem(
    env.map((p) => p.key),
    secrets.map((p) => p.key),
  );
  const allowProblem = allowListProblem(allow);
  // Named but left empty: not sent, so the new deployment goes without them.
  const unfilled = [
    ...secrets.filter((p) => p.key.trim() && !p.value).map((p) => `${p.key.trim()} (secret)`),
    ...ds.filter((p) => p.key.trim() && !p.value).map((p) => `${p.key.trim()} (datasource)`),
  ];
  const submit = async () => {
    setBusy(true);
    setError('');
    try {
      const d = await api.deploy(props.flowName, {
        version,
        target,
        env: pairsToObject(env),
        secrets: filledPairs(secrets),
        datasources: filledPairs(ds),
        scaling: { min: minN, max: maxN },
        deadline: deadline.trim(),
        egress: { allow: cleanAllowList(allow) },
      });
      toast(`Deploying v${version}`);
      props.onDeployed(d);
    } catch (e) {
      const err = e as ApiError;
      setError(err.message + (err.problems().length ? ': ' + err.problems().map((p) => p.message).join('; ') : ''));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Deploy ${props.flowName}`}
      onClose={props.onClose}
      testId="deploy-dialog"
      wide
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={busy || scaleBad || deadlineBad || !!varsProblem || !!allowProblem} onClick={submit} data-testid="deploy-submit">
            {busy ? (
              <>
                <Spinner /> Deploying… {elapsed.toFixed(1)} s
              </>
            ) : cur ? (
              `Deploy v${version} (replaces v${cur.version})`
            ) : (
              `Deploy v${version}`
            )}
          </button>
        </>
      }
    >
      <div className="form deploy-form">
        <div className="row">
          <label>
            Version
            <select aria-label="Version" value={version} onChange={(e) => setVersion(Number(e.target.value))}>
              {props.versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version} ({v.target}{v.revision ? `, revision ${v.revision}` : ''}) {timeAgo(v.created_at)}
                </option>
              ))}
            </select>
          </label>
          <fieldset className="targets">
            <legend>Target</legend>
            <label>
              <input type="radio" name="dtarget" checked={target === 'local'} onChange={() => setTarget('local')} /> local (this machine)
            </label>
            <label className={targets.includes('nomad') ? '' : 'disabled'} title={targets.includes('nomad') ? '' : 'Nomad is not configured on this server (NOMAD_ADDR).'}>
              <input type="radio" name="dtarget" disabled={!targets.includes('nomad')} checked={target === 'nomad'} onChange={() => setTarget('nomad')} /> nomad
              {!targets.includes('nomad') && <span className="muted"> (not configured)</span>}
            </label>
          </fieldset>
        </div>
        <div className="row">
          <label>
            Min instances
            <input aria-label="Min instances" inputMode="numeric" value={min} onChange={(e) => setMin(e.target.value)} className={scaleBad ? 'invalid' : ''} />
          </label>
          <label>
            Max instances
            <input aria-label="Max instances" inputMode="numeric" value={max} onChange={(e) => setMax(e.target.value)} className={scaleBad ? 'invalid' : ''} />
          </label>
          <label>
            Request deadline
            <input aria-label="Request deadline" value={deadline} onChange={(e) => setDeadline(e.target.value)} className={deadlineBad ? 'invalid' : ''} placeholder="30s" />
          </label>
        </div>
        {scaleBad && <div className="hint error-text">Instances: whole numbers, max at least 1 and not below min.</div>}
        {deadlineBad && <div className="hint error-text">Deadline: a duration such as 500ms, 30s or 2m.</div>}
        <h4>Environment variables</h4>
        <p className="hint">Expressions read them as env.NAME; code.js as env.NAME. Shown back as they are: put keys and passwords under Secrets.</p>
        <PairsEditor label="Variable" pairs={env} keyPlaceholder="NAME" onChange={setEnv} secret={false} />
        <h4>Secrets</h4>
        <p className="hint">Read as env.NAME too, but sealed on the server, never shown again, and replaced by [redacted] in logs and errors.</p>
        {cur && setSecrets.length + setDatasources.length > 0 && (
          <div className="banner info" data-testid="secrets-set">
            The running deployment (v{cur.version}) has{' '}
            {[...setSecrets, ...setDatasources.map((n) => `datasource ${n}`)].map((n, i) => (
              <span key={n} className="set-name">
                {i > 0 ? ', ' : ''}
                <code>{n}</code>: set (enter a value to replace it)
              </span>
            ))}
            . The server never gives secrets or datasource URLs back, so a deploy sends only what is entered here: enter each of them again, or the new deployment goes
            without it.
          </div>
        )}
        {!cur && <p className="hint">Secrets and datasource URLs are entered on each deploy: the server never gives them back.</p>}
        <PairsEditor
          label="Secret"
          pairs={secrets}
          keyPlaceholder="NAME"
          valuePlaceholder="value"
          placeholderFor={(p) => (setSecrets.includes(p.key.trim()) ? 'set; enter the value again' : undefined)}
          onChange={setSecretPairs}
          secret
        />
        {varsProblem && <div className="hint error-text">{varsProblem}</div>}
        <h4>Datasources</h4>
        <p className="hint">Names used by db.query nodes, each with its connection URL (a secret, like the ones above).</p>
        <PairsEditor
          label="Datasource"
          pairs={ds}
          keyPlaceholder="main"
          valuePlaceholder="postgres://user:pass@host/db"
          placeholderFor={(p) => (setDatasources.includes(p.key.trim()) ? 'set; enter the URL again' : undefined)}
          onChange={setDs}
          secret
        />
        {unfilled.length > 0 && (
          <div className="banner warn" data-testid="unfilled-secrets">
            No value entered for {unfilled.join(', ')}: the new deployment will not have {unfilled.length === 1 ? 'it' : 'them'}.
          </div>
        )}
        <h4>Allowed internal addresses</h4>
        <EgressHint what="this deployment" />
        <ListEditor
          label="Allowed address"
          addLabel="address"
          items={allow}
          placeholder="10.1.2.0/24, billing.internal:8443"
          problem={allowEntryProblem}
          onChange={setAllow}
          testId="deploy-egress"
        />
        {props.liveURL && (
          <p className="hint">
            It will answer at <code>{props.liveURL}</code>.
          </p>
        )}
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
      </div>
    </Modal>
  );
}
