// The side panel when no single node is selected: the flow's description,
// its nodes, the selected edge or nodes, and how to build a flow.
import type { FlowDoc, Problem } from '../../types';
import { edgeKey, portOf } from '../../flow';
import type { EditorStore } from '../store';
import { ProblemNotes } from '../ProblemsPanel';
import { summary, useCatalog } from '../../catalog';

export function FlowOverview(props: { store: EditorStore; doc: FlowDoc; selectedCount: number; selectedEdges: string[]; problems: Problem[]; onPick: (id: string) => void; readOnly: boolean }) {
  const { store, doc } = props;
  const { byType } = useCatalog();
  if (props.selectedCount > 1)
    return (
      <div className="overview">
        <h2>{props.selectedCount} nodes selected</h2>
        <p className="hint">Ctrl+C / Ctrl+V copies them, Delete removes them, drag moves them together.</p>
        <button
          className="danger"
          disabled={props.readOnly}
          onClick={() => {
            const ids = new Set(store.get().selectedNodes);
            store.apply((d) => ({ ...d, nodes: d.nodes.filter((n) => !ids.has(n.id)), edges: d.edges.filter((e) => !ids.has(e.from) && !ids.has(e.to)) }));
            store.select([], []);
          }}
        >
          Delete {props.selectedCount} nodes
        </button>
      </div>
    );
  const edge = props.selectedEdges.length === 1 ? doc.edges.find((e) => edgeKey(e) === props.selectedEdges[0]) : undefined;
  return (
    <div className="overview">
      {edge && (
        <section className="edge-info">
          <h3>Edge</h3>
          <p>
            <code>{edge.from}</code> leaves through <strong>{portOf(edge)}</strong> to <code>{edge.to}</code>.
          </p>
          <button
            className="danger small"
            disabled={props.readOnly}
            onClick={() => {
              store.apply((d) => ({ ...d, edges: d.edges.filter((e) => e !== edge) }));
              store.select([], []);
            }}
          >
            Delete edge
          </button>
        </section>
      )}
      <h2>Flow</h2>
      <label className="field">
        <span className="field-label">Description</span>
        <textarea
          aria-label="Flow description"
          rows={2}
          readOnly={props.readOnly}
          value={doc.description ?? ''}
          onChange={(e) => {
            const v = e.target.value;
            store.apply((d) => {
              const { description: _old, ...rest } = d;
              void _old;
              return v ? { ...rest, description: v } : rest;
            }, { coalesce: 'flow-description' });
          }}
        />
      </label>
      <ProblemNotes problems={props.problems} showField={false} />
      <h3>Nodes</h3>
      <ul className="node-list">
        {doc.nodes.map((n) => (
          <li key={n.id}>
            <button className="link" onClick={() => props.onPick(n.id)}>
              <code>{n.id}</code>
            </button>{' '}
            <span className="muted">{n.type}</span> <span className="muted small-text">{summary(n, byType.get(n.type))}</span>
          </li>
        ))}
      </ul>
      <h3>How to build a flow</h3>
      <ol className="howto">
        <li>Drag a node type from the palette onto the canvas.</li>
        <li>Connect a port on the right of a node to the left side of the next node. Each port is a way out: <code>true</code>/<code>false</code>, <code>error</code>, …</li>
        <li>Click a node to fill its form here. Expressions complete as you type: <code>request.</code>, <code>nodes.</code>, <code>env.</code>.</li>
        <li>Run a request in the Test tab; the canvas shows what ran.</li>
        <li>Publish and deploy in the Publish tab; say who may call the endpoint (API keys, browser origins) in the Access tab.</li>
      </ol>
      <h3>Keys</h3>
      <p className="hint keys">
        Ctrl+S save · Ctrl+Z / Ctrl+Shift+Z undo/redo · Ctrl+C / Ctrl+V copy/paste · Delete remove · Shift+drag select many
      </p>
    </div>
  );
}
