// The editor's top bar: back to the flows, the flow's name, its route, whether
// it is saved, and the canvas toolbar (undo/redo, auto-layout, fit, export, save).
import { useCallback } from 'react';
import { useReactFlow, useStoreApi } from '@xyflow/react';
import type { FlowDoc } from '../../types';
import { NAME_RE, download, exportText, triggerOf } from '../../flow';
import { navigate } from '../../router';
import { Spinner } from '../../ui';
import { UserMenu, why } from '../../shell';
import { EditorStore, useEditor } from '../store';
import { autoLayout, boundsOf, fitReadable, type Rect } from '../layout';

export function EditorTopbar(props: {
  store: EditorStore;
  doc: FlowDoc;
  route: { method: string; path: string };
  dirty: boolean;
  saving: boolean;
  revision: number;
  /** Why this user may not edit (a viewer), or ''. */
  blocked: string;
  save: () => Promise<boolean>;
}) {
  const { store, doc, route, dirty, saving, revision, blocked, save } = props;
  const readOnly = !!blocked;
  const rf = useReactFlow();
  const canUndo = useEditor(store, (s) => s.past.length > 0);
  const canRedo = useEditor(store, (s) => s.future.length > 0);

  const rfStore = useStoreApi();
  const doLayout = useCallback(() => {
    const d = store.get().doc;
    const sizeOf = (id: string) => {
      const m = rf.getNode(id)?.measured;
      return m?.width && m?.height ? { width: m.width, height: m.height } : undefined;
    };
    const pos = autoLayout(d, sizeOf);
    store.apply((x) => ({ ...x, nodes: x.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id) } : n)) }));
    // fitView would zoom a large flow out until no text is readable: keep a
    // readable zoom and show the flow from its start instead.
    const rects = new Map<string, Rect>();
    for (const [id, p] of pos) rects.set(id, { ...p, ...(sizeOf(id) ?? { width: 200, height: 96 }) });
    const bounds = boundsOf(rects.values());
    if (!bounds) return;
    const first = triggerOf(d) ?? d.nodes.find((n) => !d.edges.some((e) => e.to === n.id));
    const { width, height } = rfStore.getState();
    setTimeout(() => void rf.setViewport(fitReadable(bounds, first && rects.get(first.id), { width, height }), { duration: 300 }), 30);
  }, [store, rf, rfStore]);

  return (
    <header className="topbar">
      <a
        className="back"
        href="#/"
        onClick={(e) => {
          e.preventDefault();
          void navigate('#/');
        }}
      >
        ← Flows
      </a>
      <div className={`flow-name${NAME_RE.test(doc.name) ? '' : ' invalid'}`} data-field-path="flow-name">
        <input
          aria-label="Flow name"
          value={doc.name}
          readOnly={readOnly}
          spellCheck={false}
          title="The flow's name; a new name takes effect when you save."
          onChange={(e) => {
            const v = e.target.value.toLowerCase();
            store.apply((d) => ({ ...d, name: v }), { coalesce: 'flow-name' });
          }}
        />
      </div>
      <span className="route">
        <span className={`method m-${route.method}`}>{route.method}</span> <code>{route.path}</code>
      </span>
      <span className={`save-state${dirty ? ' dirty' : ''}`} data-testid="save-state">
        {saving ? 'Saving…' : dirty ? 'Unsaved changes' : `Saved · rev ${revision}`}
      </span>
      <div className="spacer" />
      <div className="toolbar" role="toolbar" aria-label="Canvas">
        <button className="icon-btn" title="Undo (Ctrl+Z)" aria-label="Undo" disabled={!canUndo} onClick={() => store.undo()}>
          ↶
        </button>
        <button className="icon-btn" title="Redo (Ctrl+Shift+Z)" aria-label="Redo" disabled={!canRedo} onClick={() => store.redo()}>
          ↷
        </button>
        <button title={blocked || 'Arrange the nodes left to right'} onClick={doLayout} disabled={readOnly}>
          Auto-layout
        </button>
        <button title="Fit the flow in view" onClick={() => void rf.fitView({ padding: 0.2, duration: 300, maxZoom: 1.2 })}>
          Fit
        </button>
        <button title="Download the flow document as JSON" onClick={() => download(`${doc.name}.flow.json`, exportText(doc))}>
          Export
        </button>
        <button className="primary" title="Save (Ctrl+S)" disabled={saving || !dirty || readOnly} onClick={() => void save()} data-testid="save" {...why(blocked, 'editor-role-note')}>
          {saving ? <Spinner /> : null} Save
        </button>
      </div>
      <UserMenu />
    </header>
  );
}
