// Compose a request, keep named samples (localStorage), run the current
// document through POST /flows/{name}/test and show the response and trace.
import { useEffect, useMemo, useState } from 'react';
import { ApiError, api } from '../api';
import type { FlowDoc, Problem, TestRequest, TestResult } from '../types';
import { JsonView, PairsEditor, Spinner, pairsToObject, type Pair } from '../ui';
import { CodeEditor } from '../cm/CodeEditor';
import { languageFor } from '../cm/langs';
import { ProblemList } from './ProblemsPanel';
import { isError } from '../problems';
import { cleanDoc } from '../flow';

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
}

const samplesKey = (flow: string) => `flowline.samples.${flow}`;
const draftKey = (flow: string) => `flowline.draft.${flow}`;
const envKey = (flow: string) => `flowline.testenv.${flow}`;

function load<T>(key: string, fallback: T): T {
  try {
    const s = localStorage.getItem(key);
    return s ? (JSON.parse(s) as T) : fallback;
  } catch {
    return fallback;
  }
}

function save(key: string, v: unknown) {
  try {
    localStorage.setItem(key, JSON.stringify(v));
  } catch {
    /* storage full or disabled: samples are a convenience */
  }
}

export function loadTestEnv(flow: string): TestEnv {
  return load<TestEnv>(envKey(flow), { env: [], datasources: [] });
}

interface Props {
  flowName: string;
  getDoc: () => FlowDoc;
  route: { method: string; path: string };
  result: TestResult | null;
  onResult: (r: TestResult | null) => void;
  onPickNode: (id: string) => void;
  onProblems: (p: Problem[]) => void;
  onPickProblem: (p: Problem) => void;
  onEnvChange: (env: TestEnv) => void;
  draft: Draft;
  setDraft: (d: Draft) => void;
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
  const { flowName, draft, setDraft } = props;
  const [samples, setSamples] = useState<Sample[]>(() => load(samplesKey(flowName), []));
  const [env, setEnv] = useState<TestEnv>(() => loadTestEnv(flowName));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [sampleName, setSampleName] = useState('');
  const built = useMemo(() => buildRequest(draft), [draft]);

  useEffect(() => save(draftKey(flowName), draft), [flowName, draft]);
  useEffect(() => {
    save(envKey(flowName), env);
    props.onEnvChange(env);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [flowName, env]);

  const run = async () => {
    setBusy(true);
    setError('');
    setProblems([]);
    try {
      const r = await api.test(flowName, built.req, cleanDoc(props.getDoc()), pairsToObject(env.env), pairsToObject(env.datasources));
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
        <select
          aria-label="Saved requests"
          value=""
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
            <option key={s.name} value={s.name}>
              {s.name}
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
        <button className="primary" onClick={run} disabled={busy} data-testid="run-test">
          {busy ? <Spinner /> : '▶'} Run
        </button>
      </div>
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
      <details>
        <summary>Environment for test runs ({env.env.length + env.datasources.length})</summary>
        <p className="hint">Variables (env.NAME) and datasources (name → URL) used by test runs only.</p>
        <PairsEditor label="Variable" pairs={env.env} keyPlaceholder="NAME" onChange={(e) => setEnv({ ...env, env: e })} />
        <PairsEditor label="Datasource" pairs={env.datasources} keyPlaceholder="main" valuePlaceholder="postgres://…" onChange={(d) => setEnv({ ...env, datasources: d })} />
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

