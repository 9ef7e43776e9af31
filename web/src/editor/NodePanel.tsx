// The side panel for the selected node: its id, its config form (generated
// from the spec), its problems, and what it did in the last test run.
import { useEffect, useMemo, useState } from 'react';
import type { Config, FlowNode, LogLine, Pin, Problem, Spec, Span } from '../types';
import { ID_RE, normalizeFieldPath, renameNode } from '../flow';
import { FieldEditor, FieldMessages, renderedPaths, type FieldProblem, type ProblemIndex } from './fields';
import { ProblemNotes } from './ProblemsPanel';
import { severityOf } from '../problems';
import { EditorStore } from './store';
import { JsonView } from '../ui';
import { useCategoryColor } from '../catalog';
import { AllowForTests } from './TestPanel';

interface Props {
  store: EditorStore;
  node: FlowNode;
  spec?: Spec;
  problems: Problem[];
  span?: Span;
  ran: boolean;
  logs: LogLine[];
  onRenamed: (id: string) => void;
  /** The test runs' egress allow-list, and how to add to it (absent for viewers). */
  egressAllowed?: string[];
  onAllowEgress?: (addr: string) => void;
  /** The node's pinned output, and how to pin or unpin it (absent for viewers). */
  pin?: Pin;
  onPin?: (p: Pin | null) => void;
}

export function NodePanel({ store, node, spec, problems, span, ran, logs, onRenamed, egressAllowed, onAllowEgress, pin, onPin }: Props) {
  const categoryColor = useCategoryColor();
  const index: ProblemIndex = useMemo(() => {
    const m: ProblemIndex = new Map();
    for (const p of problems) {
      const k = normalizeFieldPath(p.field);
      m.set(k, [...(m.get(k) ?? []), { message: p.message, severity: severityOf(p), at: p.at }]);
    }
    return m;
  }, [problems]);
  const shown = useMemo(() => renderedPaths(spec?.fields ?? [], node.config), [spec, node.config]);
  const loose = problems.filter((p) => {
    const k = normalizeFieldPath(p.field);
    return !k || (k !== 'id' && !shown.has(k));
  });

  const setField = (name: string, v: unknown, key: string) => {
    store.apply(
      (d) => ({
        ...d,
        nodes: d.nodes.map((n) => {
          if (n.id !== node.id) return n;
          const config: Config = { ...(n.config ?? {}) };
          if (v === undefined) delete config[name];
          else config[name] = v;
          return { ...n, config };
        }),
      }),
      { coalesce: `${node.id}:${key}` },
    );
  };

  return (
    <div className="node-panel" data-testid="node-panel" data-node={node.id}>
      <div className="np-head" style={{ ['--cat' as string]: categoryColor(spec?.category) }}>
        <span className="np-cat">{spec?.category ?? 'unknown'}</span>
        <h2>{spec?.title ?? node.type}</h2>
        <code className="muted">{node.type}</code>
      </div>
      {spec?.description && <p className="np-desc">{spec.description}</p>}
      {!spec && <div className="banner error">Unknown node type “{node.type}”: this build of the server does not know it.</div>}
      <IdField store={store} node={node} problems={index.get('id') ?? []} onRenamed={onRenamed} />
      <ProblemNotes problems={loose} />
      <div className="np-fields">
        {(spec?.fields ?? []).map((f) => (
          <FieldEditor key={`${node.id}:${f.name}`} field={f} value={node.config?.[f.name]} path={f.name} problems={index} onEdit={(v, key) => setField(f.name, v, key)} />
        ))}
        {spec && spec.fields.length === 0 && <p className="muted">This node has nothing to configure.</p>}
      </div>
      {spec?.output && (
        <p className="hint np-output">
          <strong>Output:</strong> {spec.output}
        </p>
      )}
      {pin && <PinnedData pin={pin} onUnpin={onPin && (() => onPin(null))} />}
      {ran && (
        <RunDetails
          span={span}
          logs={logs}
          allowed={egressAllowed ?? []}
          onAllow={onAllowEgress}
          onPin={onPin && pinnable(node) && span && !span.error && span.port ? () => onPin({ output: span.output ?? null, port: span.port! }) : undefined}
          pinned={!!pin}
        />
      )}
      {spec?.examples && spec.examples.length > 0 && (
        <details className="np-examples">
          <summary>Examples</summary>
          {spec.examples.map((ex, i) => (
            <div key={i} className="example">
              <div className="example-head">
                <span>{ex.title}</span>
                <button
                  className="small"
                  onClick={() =>
                    store.apply((d) => ({ ...d, nodes: d.nodes.map((n) => (n.id === node.id ? { ...n, config: structuredClone(ex.config) as Config } : n)) }))
                  }
                >
                  Use
                </button>
              </div>
              <JsonView value={ex.config} />
            </div>
          ))}
        </details>
      )}
    </div>
  );
}

function IdField({ store, node, problems, onRenamed }: { store: EditorStore; node: FlowNode; problems: FieldProblem[]; onRenamed: (id: string) => void }) {
  const [text, setText] = useState(node.id);
  useEffect(() => setText(node.id), [node.id]);
  const taken = text !== node.id && store.get().doc.nodes.some((n) => n.id === text);
  const bad = !ID_RE.test(text) ? 'Start with a letter or _, then letters, digits and _ (at most 64).' : taken ? `Another node is already called “${text}”.` : '';
  const commit = () => {
    if (bad || text === node.id) {
      if (bad) setText(node.id);
      return;
    }
    store.apply((d) => renameNode(d, node.id, text));
    store.select([text], []);
    onRenamed(text);
  };
  const msgs: FieldProblem[] = [...problems, ...(bad ? [{ message: bad, severity: 'error' as const }] : [])];
  const invalid = msgs.some((m) => m.severity === 'error');
  return (
    <div className={`field${invalid ? ' invalid' : msgs.length ? ' warned' : ''}`} data-field-path="id">
      <div className="field-label">
        <span>Node id</span>
        <span className="field-kind">used as nodes.{node.id}</span>
      </div>
      <input
        aria-label="Node id"
        value={text}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            commit();
          } else if (e.key === 'Escape') setText(node.id);
        }}
      />
      <FieldMessages items={msgs} />
      {!msgs.length && <div className="hint">Renaming updates edges and nodes.{node.id} references.</div>}
    </div>
  );
}

/** The trigger's output is the sample request; a response has none. */
function pinnable(n: FlowNode): boolean {
  return n.type !== 'trigger.http' && n.type !== 'response';
}

/** A pinned output: test runs use it instead of running the node. */
function PinnedData({ pin, onUnpin }: { pin: Pin; onUnpin?: () => void }) {
  return (
    <section className="pinned-data" data-testid="pinned-data">
      <h3>
        <span className="pin-mark" aria-hidden="true">📌</span> Pinned sample data <span className="muted">→ {pin.port}</span>
        {onUnpin && (
          <button className="small" onClick={onUnpin}>
            Unpin
          </button>
        )}
      </h3>
      <p className="hint">Test runs use this output instead of running the node: no call is made, nothing is queried.</p>
      <JsonView value={pin.output} />
    </section>
  );
}

function RunDetails({
  span,
  logs,
  allowed,
  onAllow,
  onPin,
  pinned,
}: {
  span?: Span;
  logs: LogLine[];
  allowed: string[];
  onAllow?: (addr: string) => void;
  onPin?: () => void;
  pinned: boolean;
}) {
  if (!span)
    return (
      <section className="run-details skipped" data-testid="run-details">
        <h3>Last test run</h3>
        <p className="muted">Skipped: this node did not run.</p>
      </section>
    );
  return (
    <section className={`run-details ${span.error ? 'failed' : 'ok'}`} data-testid="run-details">
      <h3>
        Last test run <span className={`pill ${span.error ? 'st-failed' : 'st-running'}`}>{span.error ? 'failed' : 'ran'}</span>
        {span.duration_ms !== undefined && <span className="muted"> {span.duration_ms} ms</span>}
        {span.port && <span className="muted"> → {span.port}</span>}
        {span.pinned && <span className="pill st-pinned">pinned</span>}
        {onPin && !span.pinned && (
          <button className="small" onClick={onPin} title="Test runs will use this output instead of running the node" data-testid="pin-output">
            {pinned ? 'Pin this output instead' : 'Pin this output'}
          </button>
        )}
      </h3>
      {span.error && (
        <div className="banner error" data-testid="span-error">
          {span.error}
          <AllowForTests error={span.error} allowed={allowed} onAllow={onAllow} />
        </div>
      )}
      <details open>
        <summary>Output</summary>
        <JsonView value={span.output} testId="span-output" />
      </details>
      <details>
        <summary>Input</summary>
        <JsonView value={span.input} />
      </details>
      {logs.length > 0 && (
        <details open>
          <summary>Logs ({logs.length})</summary>
          <ul className="log-lines">
            {logs.map((l, i) => (
              <li key={i} className={`lvl-${l.level}`}>
                <span className="lvl">{l.level}</span> {l.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
