// Compose a request, keep named samples (localStorage), run the current
// document through POST /flows/{name}/test and show the response and trace.
// The environment of test runs (variables, datasources, the egress
// allow-list) is kept per flow in localStorage; secret variables in
// sessionStorage only, so they go with the tab.
import { useEffect, useMemo, useState } from 'react';
import { ApiError, api } from '../api';
import type { FlowDoc, Pin, Problem, TestRequest, TestResult } from '../types';
import { JsonView, ListEditor, PairsEditor, Spinner, pairsToObject, type Pair } from '../ui';
import { allowEntryProblem, allowListProblem, cleanAllowList, hasAllowEntry, refusedAddress, variablesProblem } from '../endpoint';
import { CodeEditor } from '../cm/CodeEditor';
import { languageFor } from '../cm/langs';
import { ProblemList } from './ProblemsPanel';
import { isError } from '../problems';
import { cleanDoc } from '../flow';
import { RoleNote, why } from '../shell';
import { ellipsize } from '../drift';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export interface Draft {
  method: string;
  path: string;
  query: Pair[];
  headers: Pair[];
  body: string;
}

interface Sample extends Draft {
  name: string;
}

export interface TestEnv {
  env: Pair[];
  datasources: Pair[];
  /** Internal addresses test runs' http.request nodes may call (the egress allow-list). */
  egress: string[];
  /** Secret variables: env.NAME as well, but kept in sessionStorage only. */
  secrets: Pair[];
  /** Node outputs pinned as sample data: runs use them instead of running those nodes. */
  pins: Record<string, Pin>;
}

const samplesKey = (flow: string) => `flowline.samples.${flow}`;
const draftKey = (flow: string) => `flowline.draft.${flow}`;
const envKey = (flow: string) => `flowline.testenv.${flow}`;
const secretsKey = (flow: string) => `flowline.testsecrets.${flow}`;

function load<T>(key: string, fallback: T, storage: Storage = localStorage): T {
  try {
    const s = storage.getItem(key);
    return s ? (JSON.parse(s) as T) : fallback;
  } catch {
    return fallback;
  }
}

function save(key: string, v: unknown, storage: Storage = localStorage) {
  try {
    storage.setItem(key, JSON.stringify(v));
  } catch {
    /* storage full or disabled: samples are a convenience */
  }
}

const pairList = (x: unknown): Pair[] => (Array.isArray(x) ? x.filter((p): p is Pair => !!p && typeof p.key === 'string' && typeof p.value === 'string') : []);

/** The pins of nodes the flow still has. */
export function pinsOf(doc: FlowDoc, pins: Record<string, Pin>): Record<string, Pin> {
  const ids = new Set(doc.nodes.map((n) => n.id));
  return Object.fromEntries(Object.entries(pins).filter(([id]) => ids.has(id)));
}

export function loadTestEnv(flow: string): TestEnv {
  const kept = load<Partial<TestEnv>>(envKey(flow), {});
  return {
    env: pairList(kept.env),
    datasources: pairList(kept.datasources),
    egress: Array.isArray(kept.egress) ? kept.egress.filter((e): e is string => typeof e === 'string') : [],
    secrets: pairList(load<unknown>(secretsKey(flow), [], sessionStorage)),
    pins: pinMap(kept.pins),
  };
}

function pinMap(x: unknown): Record<string, Pin> {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return {};
  return Object.fromEntries(Object.entries(x as Record<string, Pin>).filter(([, p]) => !!p && typeof p === 'object' && typeof p.port === 'string'));
}

/** Keeps the test environment: secrets in sessionStorage, never in localStorage; the rest in localStorage. */
export function saveTestEnv(flow: string, e: TestEnv) {
  save(envKey(flow), { env: e.env, datasources: e.datasources, egress: e.egress, pins: e.pins });
  save(secretsKey(flow), e.secrets, sessionStorage);
}

/** What keeps a test run from being sent with this environment, or ''. */
export function testEnvProblem(e: TestEnv): string {
  return variablesProblem(
    e.env.map((p) => p.key),
    e.secrets.map((p) => p.key),
  ) || allowListProblem(e.egress);
}

/**
 * Under a node's error from the egress policy: a button that adds the
 * refused address to the test runs' allow-list (or says it is there).
 */
export function AllowForTests(props: { error?: string; allowed: string[]; onAllow?: (addr: string) => void }) {
  const addr = refusedAddress(props.error);
  if (!addr || !props.onAllow) return null;
  if (hasAllowEntry(props.allowed, addr))
    return (
      <div className="allow-action muted small-text" data-testid="egress-allowed">
        {addr} is allowed for test runs now; run the test again.
      </div>
    );
  return (
    <div className="allow-action">
      <button className="small" onClick={() => props.onAllow!(addr)} data-testid="egress-allow" title="Adds it to the allowed internal addresses of test runs (Test tab, Environment)">
        Allow {addr} for test runs
      </button>
    </div>
  );
}

interface Props {
  flowName: string;
  getDoc: () => FlowDoc;
  route: { method: string; path: string };
  result: TestResult | null;
  /** The flow changed in meaning since the result's run. */
  stale?: boolean;
  onResult: (r: TestResult | null) => void;
  onPickNode: (id: string) => void;
  onProblems: (p: Problem[]) => void;
  onPickProblem: (p: Problem) => void;
  /** The environment of test runs; the editor keeps it (a node's result can add an allowed address). */
  env: TestEnv;
  onEnvChange: (env: TestEnv) => void;
  /** Adds an address the egress policy refused to the test runs' allow-list. */
  onAllowEgress: (addr: string) => void;
  draft: Draft;
  setDraft: (d: Draft) => void;
  /** Why this user may not run tests (a viewer), or ''. */
  blocked?: string;
}

export function initialDraft(flow: string, route: { method: string; path: string }): Draft {
  return load<Draft>(draftKey(flow), { method: route.method, path: route.path, query: [], headers: [], body: route.method === 'GET' || route.method === 'DELETE' ? '' : '{\n  \n}' });
}

export function buildRequest(d: Draft): { req: TestRequest; note?: string } {
  const req: TestRequest = { method: d.method, path: d.path };
  const q = pairsToObject(d.query);
  if (Object.keys(q).length) req.query = q;
  const h = pairsToObject(d.headers);
  if (Object.keys(h).length) req.headers = h;
  const text = d.body.trim();
  if (text && d.method !== 'GET' && d.method !== 'HEAD') {
    try {
      req.body = JSON.parse(text);
    } catch {
      req.raw_body = d.body;
      const ct = Object.entries(h).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
      req.content_type = ct ?? 'text/plain; charset=utf-8';
      return { req, note: 'The body is not JSON: it is sent as text.' };
    }
  }
  return { req };
}

export function TestPanel(props: Props) {
  const { flowName, draft, setDraft, env } = props;
  const setEnv = props.onEnvChange;
  const [samples, setSamples] = useState<Sample[]>(() => load(samplesKey(flowName), []));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [sampleName, setSampleName] = useState('');
  const built = useMemo(() => buildRequest(draft), [draft]);

  useEffect(() => save(draftKey(flowName), draft), [flowName, draft]);
  const envProblem = testEnvProblem(env);

  const run = async () => {
    setProblems([]);
    if (envProblem) {
      setError(`Fix the environment for test runs first: ${envProblem}`);
      return;
    }
    setBusy(true);
    setError('');
    try {
      const r = await api.test(flowName, built.req, cleanDoc(props.getDoc()), {
        env: pairsToObject(env.env),
        secrets: pairsToObject(env.secrets),
        datasources: pairsToObject(env.datasources),
        egress: { allow: cleanAllowList(env.egress) },
        pins: pinsOf(props.getDoc(), env.pins),
      });
      props.onResult(r);
    } catch (e) {
      const err = e as ApiError;
      const ps = err.problems();
      if (err.status === 422 && ps.some(isError)) {
        setProblems(ps);
        props.onProblems(ps);
        setError('The flow has problems; fix them to run it.');
      } else setError(err.message);
      props.onResult(null);
    } finally {
      setBusy(false);
    }
  };

  const storeSamples = (s: Sample[]) => {
    setSamples(s);
    save(samplesKey(flowName), s);
  };

  const res = props.result;
  return (
    <div className="test-panel" data-testid="test-panel">
      <div className="samples">
        {/* Its own full-width line, names shortened (the full one in a title):
            a long name must not push the select past a narrow panel. */}
        <select
          aria-label="Saved requests"
          value=""
          title={samples.length ? `${samples.length} saved request${samples.length === 1 ? '' : 's'}` : undefined}
          onChange={(e) => {
            const s = samples.find((x) => x.name === e.target.value);
            if (s) {
              setDraft({ method: s.method, path: s.path, query: s.query, headers: s.headers, body: s.body });
              setSampleName(s.name);
            }
          }}
        >
          <option value="">{samples.length ? 'Load a saved request…' : 'No saved requests'}</option>
          {samples.map((s) => (
            <option key={s.name} value={s.name} title={s.name}>
              {ellipsize(s.name, 48)}
            </option>
          ))}
        </select>
        <input aria-label="Sample name" placeholder="name" value={sampleName} onChange={(e) => setSampleName(e.target.value)} />
        <button
          className="small"
          disabled={!sampleName.trim()}
          onClick={() => storeSamples([...samples.filter((s) => s.name !== sampleName.trim()), { ...draft, name: sampleName.trim() }].slice(-20))}
        >
          Save sample
        </button>
        {samples.some((s) => s.name === sampleName.trim()) && (
          <button className="small danger" onClick={() => storeSamples(samples.filter((s) => s.name !== sampleName.trim()))}>
            Delete
          </button>
        )}
      </div>
      <div className="req-line">
        <select aria-label="Request method" value={draft.method} onChange={(e) => setDraft({ ...draft, method: e.target.value })}>
          {METHODS.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
        <input aria-label="Request path" value={draft.path} onChange={(e) => setDraft({ ...draft, path: e.target.value })} spellCheck={false} />
        <button className="primary" onClick={run} disabled={busy || !!props.blocked} data-testid="run-test" {...why(props.blocked ?? '', 'test-role-note')}>
          {busy ? <Spinner /> : '▶'} Run
        </button>
      </div>
      <RoleNote reason={props.blocked ? `Test runs need the editor role. ${props.blocked}` : ''} id="test-role-note" testId="test-blocked" />
      {(props.route.method !== draft.method || (!props.route.path.includes(':') && props.route.path !== draft.path.split('?')[0])) && (
        <button className="link small-text" onClick={() => setDraft({ ...draft, path: props.route.path, method: props.route.method })}>
          use the trigger's {props.route.method} {props.route.path}
        </button>
      )}
      <details>
        <summary>Query ({draft.query.length})</summary>
        <PairsEditor label="Query" pairs={draft.query} onChange={(query) => setDraft({ ...draft, query })} />
      </details>
      <details>
        <summary>Headers ({draft.headers.length})</summary>
        <PairsEditor label="Header" pairs={draft.headers} keyPlaceholder="Header-Name" onChange={(headers) => setDraft({ ...draft, headers })} />
      </details>
      <div className="field" data-field-path="test-body">
        <div className="field-label">
          <span>Body</span>
          <span className="field-kind">JSON</span>
        </div>
        <CodeEditor code value={draft.body} onChange={(body) => setDraft({ ...draft, body })} extensions={languageFor('json')} ariaLabel="Request body" testId="test-body" />
        {built.note && <div className="hint">{built.note}</div>}
      </div>
      <details className="test-env" data-testid="test-env">
        <summary>Environment for test runs ({env.env.length + env.secrets.length + env.datasources.length + env.egress.length})</summary>
        <p className="hint">Variables (env.NAME), datasources (name → URL) and allowed addresses used by test runs only.</p>
        <h4>Variables</h4>
        <PairsEditor label="Variable" pairs={env.env} keyPlaceholder="NAME" onChange={(e) => setEnv({ ...env, env: e })} />
        <h4>Secret variables</h4>
        <p className="hint">Read as env.NAME too. Kept in this browser tab only (sessionStorage), and shown as [redacted] in the run's response, spans and logs.</p>
        <PairsEditor label="Secret" pairs={env.secrets} keyPlaceholder="NAME" onChange={(x) => setEnv({ ...env, secrets: x })} secret />
        <h4>Datasources</h4>
        <PairsEditor label="Datasource" pairs={env.datasources} keyPlaceholder="main" valuePlaceholder="postgres://…" onChange={(d) => setEnv({ ...env, datasources: d })} />
        <h4>Allowed internal addresses</h4>
        <EgressHint what="test runs" />
        <ListEditor
          label="Allowed address"
          addLabel="address"
          items={env.egress}
          placeholder="10.1.2.0/24, billing.internal:8443"
          problem={allowEntryProblem}
          onChange={(egress) => setEnv({ ...env, egress })}
          testId="test-egress"
        />
        {envProblem && <div className="hint error-text">{envProblem}</div>}
      </details>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
      {problems.length > 0 && <ProblemList problems={problems} onPick={props.onPickProblem} />}
      {res && (
        <section className="test-result" data-testid="test-result">
          <h3>
            Response <span className={`status s${String(res.response.status)[0]}`} data-testid="response-status">{res.response.status}</span>
            <button className="link small-text" onClick={() => props.onResult(null)}>
              clear
            </button>
          </h3>
          {props.stale && (
            <p className="stale-note" role="status" data-testid="stale-note">
              Stale: the flow changed since this run — run again.
            </p>
          )}
          <JsonView value={res.response.body} testId="response-body" />
          <details>
            <summary>Headers</summary>
            <table className="kv">
              <tbody>
                {Object.entries(res.response.headers ?? {}).map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td>{Array.isArray(v) ? v.join(', ') : v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
          <h3>
            Trace <code className="muted small-text">{res.trace.id}</code>
          </h3>
          <ol className="spans">
            {res.trace.spans.map((s, i) => (
              <li key={i}>
                <button className={`span ${s.error ? 'failed' : 'ok'}`} onClick={() => props.onPickNode(s.id)}>
                  <span className="dot" />
                  <code>{s.id}</code>
                  <span className="muted">{s.type}</span>
                  {s.port && <span className="muted">→ {s.port}</span>}
                  <span className="spacer" />
                  <span className="muted">{s.duration_ms ?? 0} ms</span>
                </button>
                {s.error && <div className="span-error">{s.error}</div>}
                <AllowForTests error={s.error} allowed={env.egress} onAllow={props.onAllowEgress} />
              </li>
            ))}
          </ol>
          <p className="hint">Click a node on the canvas to see its input, output and logs.</p>
          {(res.trace.logs?.length ?? 0) > 0 && (
            <details open>
              <summary>Logs ({res.trace.logs!.length})</summary>
              <ul className="log-lines">
                {res.trace.logs!.map((l, i) => (
                  <li key={i} className={`lvl-${l.level}`}>
                    <span className="lvl">{l.level}</span> {l.node && <code>{l.node}</code>} {l.message}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>
      )}
    </div>
  );
}


/** What the egress allow-list is for, beside each editor of one. */
export function EgressHint({ what }: { what: string }) {
  return (
    <p className="hint">
      The http.request nodes of {what} reach public addresses only: loopback, private, link-local and cloud metadata addresses are refused. List the internal ones they may
      call: a CIDR (10.1.2.0/24), an IP address or a host name, each but a CIDR with an optional :port (127.0.0.1:9000, billing.internal:8443, [fd00::1]:8443).
    </p>
  );
}
