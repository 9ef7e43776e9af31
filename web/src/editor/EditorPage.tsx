// The designer for one flow: palette, canvas, side panel (node form, test,
// publish), validation as you work, save with conflict handling.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { ApiError, api } from '../api';
import { useCatalog } from '../App';
import type { FlowDoc, FlowEdge, FlowNode, Problem, TestResult } from '../types';
import {
  NAME_RE,
  cleanDoc,
  download,
  edgeKey,
  exportText,
  initialConfig,
  newNodeId,
  normalizeFieldPath,
  parseFieldPath,
  formatFieldPath,
  pathParams,
  portOf,
  problemsByNode,
  triggerOf,
  triggerRoute,
  TRIGGER,
} from '../flow';
import { flowHref, navigate, setLeaveGuard } from '../router';
import { Modal, Spinner, toast } from '../ui';
import { editBlockReason, useUser } from '../auth';
import { RoleNote, UserMenu, why } from '../shell';
import { ReadOnlyContext } from '../cm/CodeEditor';
import { exprContext } from '../cm/expr';
import { Canvas, type RunView } from './Canvas';
import { EditorStore, useEditor } from './store';
import { Palette } from './Palette';
import { NodePanel } from './NodePanel';
import { ProblemNotes, ProblemsPanel } from './ProblemsPanel';
import { TestPanel, initialDraft, loadTestEnv, saveTestEnv, type Draft, type TestEnv } from './TestPanel';
import { PublishPanel } from './PublishPanel';
import { AccessPanel } from './AccessPanel';
import { addAllowEntry } from '../endpoint';
import { autoLayout } from './layout';
import { summary } from '../catalog';

type Loaded = { revision: number; savedName: string; doc: FlowDoc };

export function EditorPage({ name }: { name: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let alive = true;
    api
      .getFlow(name)
      .then((r) => alive && setLoaded({ revision: r.revision, savedName: r.name, doc: withLayout(r.document) }))
      .catch((e) => alive && setError((e as ApiError).status === 404 ? `There is no flow named “${name}”.` : (e as Error).message));
    return () => {
      alive = false;
    };
  }, [name]);
  if (error)
    return (
      <div className="fatal">
        <p>{error}</p>
        <button onClick={() => void navigate('#/')}>Back to flows</button>
      </div>
    );
  if (!loaded) return <div className="loading">Loading {name}…</div>;
  return (
    <ReactFlowProvider>
      <Editor initial={loaded} />
    </ReactFlowProvider>
  );
}

/** A document without any positions gets a layout so it is readable. */
function withLayout(doc: FlowDoc): FlowDoc {
  doc = { ...doc, nodes: doc.nodes ?? [], edges: doc.edges ?? [] };
  if (doc.nodes.length === 0 || doc.nodes.some((n) => n.position)) return doc;
  const pos = autoLayout(doc, () => undefined);
  return { ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: pos.get(n.id) })) };
}

type Tab = 'node' | 'test' | 'publish' | 'access';

function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.closest) return false;
  return !!el.closest('input, textarea, select, [contenteditable="true"], .cm-editor');
}

/** Only positions differ: no need to validate again. */
function sameMeaning(a: FlowDoc, b: FlowDoc): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.version !== b.version || a.edges !== b.edges || a.nodes.length !== b.nodes.length) return false;
  return a.nodes.every((n, i) => {
    const m = b.nodes[i];
    return n === m || (n.id === m.id && n.type === m.type && n.config === m.config);
  });
}

interface Clip {
  nodes: FlowNode[];
  edges: FlowEdge[];
}
let clipboard: Clip | null = null;

function Editor({ initial }: { initial: Loaded }) {
  const catalog = useCatalog();
  const { byType, specs, info } = catalog;
  const rf = useReactFlow();
  // A viewer sees the flow read-only: no palette, no dragging or connecting,
  // forms disabled, and the buttons that would change something say why.
  const blocked = editBlockReason(useUser());
  const readOnly = !!blocked;
  const readOnlyRef = useRef(readOnly);
  readOnlyRef.current = readOnly;
  const store = useMemo(() => new EditorStore(initial.doc), [initial]);
  const doc = useEditor(store, (s) => s.doc);
  const selectedNodes = useEditor(store, (s) => s.selectedNodes);
  const selectedEdges = useEditor(store, (s) => s.selectedEdges);
  const canUndo = useEditor(store, (s) => s.past.length > 0);
  const canRedo = useEditor(store, (s) => s.future.length > 0);

  const [revision, setRevisionState] = useState(initial.revision);
  // The revision as of now, for code that runs right after a save in the same
  // event (Save & publish publishes the revision that save just made).
  const revisionRef = useRef(initial.revision);
  const setRevision = useCallback((r: number) => {
    revisionRef.current = r;
    setRevisionState(r);
  }, []);
  const [savedDoc, setSavedDoc] = useState<FlowDoc>(initial.doc);
  const savedName = initial.savedName;
  const dirty = doc !== savedDoc;
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<{ current?: number } | null>(null);
  const [leavePrompt, setLeavePrompt] = useState<{ resolve: (ok: boolean) => void } | null>(null);

  const [tab, setTab] = useState<Tab>('node');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [validated, setValidated] = useState(false);
  const [valError, setValError] = useState('');
  const [problemsOpen, setProblemsOpen] = useState(true);
  const [focusReq, setFocusReq] = useState<{ node: string; field: string; at: number } | null>(null);

  const [testResult, setTestResult] = useState<TestResult | null>(null);
  const [draft, setDraft] = useState<Draft>(() => initialDraft(savedName, triggerRoute(initial.doc)));
  const [testEnv, setTestEnv] = useState<TestEnv>(() => loadTestEnv(savedName));
  useEffect(() => saveTestEnv(savedName, testEnv), [savedName, testEnv]);
  // A node's call refused by the egress policy: allow its address for test runs.
  const allowEgress = useCallback((addr: string) => {
    setTestEnv((e) => ({ ...e, egress: addAllowEntry(e.egress, addr) }));
    toast(`Test runs may call ${addr} now; run the test again.`);
  }, []);
  const canvasRef = useRef<HTMLDivElement>(null);

  const route = triggerRoute(doc);

  useEffect(() => {
    document.title = `${doc.name}${dirty ? ' •' : ''} · Flowline`;
  }, [doc.name, dirty]);

  // Validation as you work (debounced), skipping drags that only move nodes.
  const valSeq = useRef(0);
  const lastValidated = useRef<FlowDoc | null>(null);
  useEffect(() => {
    if (lastValidated.current && sameMeaning(lastValidated.current, doc)) return;
    const seq = ++valSeq.current;
    setChecking(true);
    const h = setTimeout(async () => {
      try {
        const ps = await api.validate(cleanDoc(doc));
        if (seq !== valSeq.current) return;
        lastValidated.current = doc;
        setValidated(true);
        setProblems(ps);
        setValError('');
      } catch (e) {
        if (seq === valSeq.current) setValError((e as Error).message);
      } finally {
        if (seq === valSeq.current) setChecking(false);
      }
    }, 450);
    return () => clearTimeout(h);
  }, [doc]);

  const byNode = useMemo(() => problemsByNode(problems), [problems]);

  const run: RunView | null = useMemo(() => (testResult ? { spans: new Map(testResult.trace.spans.map((s) => [s.id, s])) } : null), [testResult]);

  // What expression completion knows about this flow.
  useEffect(() => {
    const outputs: Record<string, unknown> = {};
    for (const s of testResult?.trace.spans ?? []) outputs[s.id] = s.output;
    const trig = triggerOf(doc);
    exprContext.current = {
      nodeIds: doc.nodes.map((n) => n.id),
      nodeTypes: Object.fromEntries(doc.nodes.map((n) => [n.id, n.type])),
      outputs,
      envNames: [...testEnv.env, ...testEnv.secrets].map((p) => p.key).filter(Boolean),
      pathParams: pathParams(route.path),
      request: trig ? outputs[trig.id] : undefined,
    };
  }, [doc, testResult, testEnv, route.path]);

  // Save, with 409 handling.
  const savedRef = useRef(savedDoc);
  savedRef.current = savedDoc;
  const save = useCallback(async (): Promise<boolean> => {
    const sending = store.get().doc;
    if (sending === savedRef.current) return true;
    const body = cleanDoc(sending);
    if (!NAME_RE.test(body.name)) {
      toast('The flow name must be 1-64 characters of a-z, 0-9 and -.', 'error');
      return false;
    }
    setSaving(true);
    try {
      const r = await api.saveFlow(savedName, revision, body);
      setRevision(r.revision);
      setSavedDoc(sending);
      if (r.name !== savedName) {
        toast(`Saved and renamed to ${r.name}`);
        setLeaveGuard(null);
        void navigate(flowHref(r.name), { force: true, replace: true });
      } else toast(`Saved (revision ${r.revision})`);
      return true;
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 409) {
        const cur = err.body?.current_revision;
        setConflict({ current: typeof cur === 'number' ? cur : undefined });
      } else {
        const ps = err.problems();
        toast(`Save failed: ${err.message}${ps.length ? ': ' + ps.map((p) => p.message).join('; ') : ''}`, 'error');
      }
      return false;
    } finally {
      setSaving(false);
    }
  }, [store, savedName, revision, setRevision]);

  const saveRef = useRef(save);
  saveRef.current = save;

  // Unsaved changes: ask before leaving.
  useEffect(() => {
    if (!dirty) return;
    const onBU = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBU);
    const remove = setLeaveGuard(() => new Promise<boolean>((resolve) => setLeavePrompt({ resolve })));
    return () => {
      window.removeEventListener('beforeunload', onBU);
      remove();
    };
  }, [dirty]);

  // Selecting one node on the canvas shows its form.
  const prevSel = useRef<string>('');
  useEffect(() => {
    const key = selectedNodes.join(',');
    if (key !== prevSel.current && selectedNodes.length === 1) setTab('node');
    prevSel.current = key;
  }, [selectedNodes]);

  const centerOn = useCallback(
    (id: string) => {
      const n = rf.getNode(id);
      if (!n) return;
      const w = n.measured?.width ?? 200;
      const h = n.measured?.height ?? 90;
      rf.setCenter(n.position.x + w / 2, n.position.y + h / 2, { zoom: Math.max(rf.getZoom(), 0.8), duration: 250 });
    },
    [rf],
  );

  const pickNode = useCallback(
    (id: string) => {
      if (!store.get().doc.nodes.some((n) => n.id === id)) return;
      store.select([id], []);
      setTab('node');
      centerOn(id);
    },
    [store, centerOn],
  );

  const pickProblem = useCallback(
    (p: Problem) => {
      const edgeAt = /^edges\[(\d+)\]/.exec(normalizeFieldPath(p.field));
      if (edgeAt) {
        // An edge's problem: show the edge (and the node it leaves).
        const e = store.get().doc.edges[Number(edgeAt[1])];
        const from = e && store.get().doc.nodes.some((n) => n.id === e.from) ? [e.from] : [];
        store.select(from, e ? [edgeKey(e)] : []);
        setTab('node');
        if (from.length) centerOn(from[0]);
      } else if (p.node && store.get().doc.nodes.some((n) => n.id === p.node)) {
        store.select([p.node], []);
        setTab('node');
        centerOn(p.node);
        setFocusReq({ node: p.node, field: normalizeFieldPath(p.field), at: Date.now() });
      } else if (p.field === 'name') {
        document.querySelector<HTMLInputElement>('[data-field-path="flow-name"] input')?.focus();
      } else {
        store.select([], []);
        setTab('node');
      }
    },
    [store, centerOn],
  );

  // Focus the field a problem points at, once its form is on screen.
  useEffect(() => {
    if (!focusReq) return;
    let tries = 0;
    const attempt = () => {
      const panel = document.querySelector(`[data-testid="node-panel"][data-node="${CSS.escape(focusReq.node)}"]`);
      if (!panel) {
        if (tries++ < 20) h = window.setTimeout(attempt, 30);
        return;
      }
      let steps = parseFieldPath(focusReq.field);
      let el: HTMLElement | null = null;
      while (!el) {
        const path = formatFieldPath(steps);
        el = panel.querySelector<HTMLElement>(`[data-field-path="${CSS.escape(path || 'id')}"]`);
        if (!steps.length) break;
        steps = steps.slice(0, -1);
      }
      if (!el) return;
      el.scrollIntoView({ block: 'center' });
      const target = el.querySelector<HTMLElement>('.cm-content, input, select, textarea');
      target?.focus();
      el.classList.remove('flash');
      void el.offsetWidth;
      el.classList.add('flash');
      setFocusReq(null);
    };
    let h = window.setTimeout(attempt, 0);
    return () => clearTimeout(h);
  }, [focusReq]);

  // Adding nodes.
  const addNode = useCallback(
    (type: string, pos: { x: number; y: number }) => {
      const spec = byType.get(type);
      if (type === TRIGGER && store.get().doc.nodes.some((n) => n.type === TRIGGER)) toast('A flow has exactly one trigger; this one will be reported as a problem.', 'error');
      const id = newNodeId(type, store.get().doc.nodes.map((n) => n.id));
      store.apply((d) => ({ ...d, nodes: [...d.nodes, { id, type, config: initialConfig(spec), position: { x: Math.round(pos.x), y: Math.round(pos.y) } }] }));
      store.select([id], []);
      setTab('node');
    },
    [byType, store],
  );

  const onPaletteDrop = useCallback(
    (type: string, x: number, y: number) => {
      const r = canvasRef.current?.getBoundingClientRect();
      if (!r || x < r.left || x > r.right || y < r.top || y > r.bottom) return false;
      const p = rf.screenToFlowPosition({ x, y });
      addNode(type, { x: p.x - 90, y: p.y - 30 });
      return true;
    },
    [rf, addNode],
  );

  const onPaletteAdd = useCallback(
    (type: string) => {
      // In the middle of the view, or the nearest free place below it.
      const r = canvasRef.current!.getBoundingClientRect();
      const p = rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
      const boxes = store.get().doc.nodes.map((n) => {
        const m = rf.getNode(n.id)?.measured;
        return { x: n.position?.x ?? 0, y: n.position?.y ?? 0, w: m?.width ?? 200, h: m?.height ?? 100 };
      });
      const free = (x: number, y: number) => boxes.every((b) => x + 200 + 16 < b.x || x > b.x + b.w + 16 || y + 100 + 16 < b.y || y > b.y + b.h + 16);
      let at = { x: p.x - 100, y: p.y - 50 };
      search: for (let ring = 0; ring < 12; ring++) {
        for (const [dx, dy] of [[0, 1], [1, 0], [0, -1], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]]) {
          const c = { x: p.x - 100 + dx * ring * 120, y: p.y - 50 + dy * ring * 120 };
          if (free(c.x, c.y)) {
            at = c;
            break search;
          }
        }
      }
      addNode(type, at);
    },
    [rf, addNode, store],
  );

  // Clipboard, undo/redo, save.
  const copy = useCallback(() => {
    const s = store.get();
    const ids = new Set(s.selectedNodes);
    if (!ids.size) return false;
    clipboard = {
      nodes: s.doc.nodes.filter((n) => ids.has(n.id)),
      edges: s.doc.edges.filter((e) => ids.has(e.from) && ids.has(e.to)),
    };
    try {
      localStorage.setItem('flowline.clipboard', JSON.stringify(clipboard));
    } catch {
      /* in-memory clipboard still works */
    }
    toast(`Copied ${ids.size} node${ids.size === 1 ? '' : 's'}`);
    return true;
  }, [store]);

  const pasteCount = useRef(0);
  const paste = useCallback(() => {
    let clip = clipboard;
    if (!clip) {
      try {
        clip = JSON.parse(localStorage.getItem('flowline.clipboard') ?? 'null');
      } catch {
        clip = null;
      }
    }
    if (!clip || !clip.nodes.length) return;
    pasteCount.current++;
    const off = 40 * pasteCount.current;
    const taken = new Set(store.get().doc.nodes.map((n) => n.id));
    const rename = new Map<string, string>();
    for (const n of clip.nodes) {
      const id = taken.has(n.id) ? newNodeId(n.type, taken) : n.id;
      taken.add(id);
      rename.set(n.id, id);
    }
    const rewrite = (v: unknown): unknown => {
      if (typeof v === 'string') return v.replace(/\bnodes\.([A-Za-z_][A-Za-z0-9_]*)\b/g, (m, id) => (rename.has(id) ? `nodes.${rename.get(id)}` : m));
      if (Array.isArray(v)) return v.map(rewrite);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewrite(x)]));
      return v;
    };
    const nodes: FlowNode[] = clip.nodes.map((n) => ({
      ...n,
      id: rename.get(n.id)!,
      config: n.config ? (rewrite(structuredClone(n.config)) as FlowNode['config']) : undefined,
      position: { x: (n.position?.x ?? 0) + off, y: (n.position?.y ?? 0) + off },
    }));
    const edges = clip.edges.map((e) => ({ ...e, from: rename.get(e.from)!, to: rename.get(e.to)! }));
    store.apply((d) => ({ ...d, nodes: [...d.nodes, ...nodes], edges: [...d.edges, ...edges] }));
    store.select(nodes.map((n) => n.id), edges.map(edgeKey));
  }, [store]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const k = e.key.toLowerCase();
      if (readOnlyRef.current && k !== 'c' && k !== 'a') {
        if (k === 's') e.preventDefault();
        return;
      }
      if (k === 's') {
        e.preventDefault();
        if (!document.querySelector('.modal')) void saveRef.current();
        return;
      }
      if (isEditable(e.target) || document.querySelector('.modal')) return;
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        store.undo();
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        store.redo();
      } else if (k === 'c') {
        if (window.getSelection()?.toString()) return;
        if (copy()) e.preventDefault();
      } else if (k === 'v') {
        e.preventDefault();
        paste();
      } else if (k === 'a') {
        e.preventDefault();
        store.select(store.get().doc.nodes.map((n) => n.id), []);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store, copy, paste]);

  const doLayout = useCallback(() => {
    const d = store.get().doc;
    const pos = autoLayout(d, (id) => {
      const m = rf.getNode(id)?.measured;
      return m?.width && m?.height ? { width: m.width, height: m.height } : undefined;
    });
    store.apply((x) => ({ ...x, nodes: x.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id) } : n)) }));
    setTimeout(() => void rf.fitView({ padding: 0.2, duration: 300, maxZoom: 1.2 }), 30);
  }, [store, rf]);

  const reload = async () => {
    const r = await api.getFlow(savedName);
    const d = withLayout(r.document);
    store.reset(d);
    setSavedDoc(d);
    setRevision(r.revision);
    setConflict(null);
    toast(`Reloaded revision ${r.revision}`);
  };

  const selectedNode = selectedNodes.length === 1 ? doc.nodes.find((n) => n.id === selectedNodes[0]) : undefined;

  return (
    <div className="page editor-page">
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
      <RoleNote reason={blocked && `Read-only. ${blocked}`} id="editor-role-note" className="role-strip" testId="editor-read-only" />
      <div className="editor-body">
        {!readOnly && <Palette specs={specs} onDrop={onPaletteDrop} onAdd={onPaletteAdd} />}
        <div className="canvas-col">
          <div className="canvas-wrap" ref={canvasRef} data-testid="canvas">
            <Canvas store={store} byType={byType} problems={byNode} run={run} initialFit={initial.doc.nodes.length > 1} onNodeClick={() => setTab('node')} readOnly={readOnly} />
            {doc.nodes.length <= 1 && !readOnly && (
              <div className="canvas-hint" aria-hidden="true">
                Drag nodes from the palette on the left, then connect a node's port (right side) to the next node (left side).
              </div>
            )}
            {run && (
              <div className="run-legend">
                <span className="lg ok" /> ran <span className="lg failed" /> failed <span className="lg skipped" /> skipped
                <button className="link small-text" onClick={() => setTestResult(null)}>
                  clear
                </button>
              </div>
            )}
          </div>
          <ProblemsPanel problems={problems} checking={checking} validated={validated} open={problemsOpen} onToggle={() => setProblemsOpen((o) => !o)} onPick={pickProblem} error={valError} />
        </div>
        <aside className="side">
          <div className="tabs" role="tablist">
            <button role="tab" aria-selected={tab === 'node'} className={tab === 'node' ? 'active' : ''} onClick={() => setTab('node')}>
              {selectedNode ? 'Node' : 'Flow'}
            </button>
            <button role="tab" aria-selected={tab === 'test'} className={tab === 'test' ? 'active' : ''} onClick={() => setTab('test')}>
              Test
            </button>
            <button role="tab" aria-selected={tab === 'publish'} className={tab === 'publish' ? 'active' : ''} onClick={() => setTab('publish')}>
              Publish
            </button>
            <button role="tab" aria-selected={tab === 'access'} className={tab === 'access' ? 'active' : ''} onClick={() => setTab('access')}>
              Access
            </button>
          </div>
          <div className="side-body">
            {tab === 'node' && selectedNode && (
              <ReadOnlyContext.Provider value={readOnly}>
                {/* A disabled fieldset disables every input and button of the form at once. */}
                <fieldset className="plain" disabled={readOnly}>
                  <NodePanel
                    key={selectedNode.id}
                    store={store}
                    node={selectedNode}
                    spec={byType.get(selectedNode.type)}
                    problems={byNode.get(selectedNode.id) ?? []}
                    span={run?.spans.get(selectedNode.id)}
                    ran={!!run}
                    logs={(testResult?.trace.logs ?? []).filter((l) => l.node === selectedNode.id)}
                    onRenamed={() => undefined}
                    egressAllowed={testEnv.egress}
                    onAllowEgress={readOnly ? undefined : allowEgress}
                  />
                </fieldset>
              </ReadOnlyContext.Provider>
            )}
            {tab === 'node' && !selectedNode && (
              <FlowOverview
                store={store}
                doc={doc}
                selectedCount={selectedNodes.length}
                selectedEdges={selectedEdges}
                problems={problems.filter((p) => !p.node)}
                onPick={pickNode}
                readOnly={readOnly}
              />
            )}
            <div hidden={tab !== 'test'}>
              <TestPanel
                flowName={savedName}
                getDoc={() => store.get().doc}
                route={route}
                result={testResult}
                onResult={setTestResult}
                onPickNode={pickNode}
                onProblems={setProblems}
                onPickProblem={pickProblem}
                env={testEnv}
                onEnvChange={setTestEnv}
                onAllowEgress={allowEgress}
                draft={draft}
                setDraft={setDraft}
                blocked={blocked}
              />
            </div>
            {tab === 'publish' && (
              <PublishPanel
                flowName={savedName}
                dirty={dirty}
                renaming={doc.name !== savedName}
                save={save}
                revision={() => revisionRef.current}
                onReload={reload}
                route={route}
                info={info}
                onPickProblem={pickProblem}
                onProblems={setProblems}
                sampleBody={draft.body}
                blocked={blocked}
              />
            )}
            {tab === 'access' && <AccessPanel flowName={savedName} route={route} info={info} sampleBody={draft.body} blocked={blocked} />}
          </div>
        </aside>
      </div>
      {conflict && (
        <ConflictDialog
          doc={doc}
          current={conflict.current}
          onClose={() => setConflict(null)}
          onReload={reload}
          onSavedCopy={(n) => {
            setSavedDoc(store.get().doc);
            setConflict(null);
            setLeaveGuard(null);
            void navigate(flowHref(n), { force: true });
          }}
        />
      )}
      {leavePrompt && (
        <Modal
          title="Unsaved changes"
          onClose={() => {
            leavePrompt.resolve(false);
            setLeavePrompt(null);
          }}
          footer={
            <>
              <button
                onClick={() => {
                  leavePrompt.resolve(false);
                  setLeavePrompt(null);
                }}
              >
                Stay
              </button>
              <button
                className="danger"
                onClick={() => {
                  leavePrompt.resolve(true);
                  setLeavePrompt(null);
                }}
              >
                Leave without saving
              </button>
              <button
                className="primary"
                onClick={async () => {
                  const ok = await save();
                  leavePrompt.resolve(ok);
                  setLeavePrompt(null);
                }}
              >
                Save and leave
              </button>
            </>
          }
        >
          <p>“{doc.name}” has changes that are not saved. Leaving now loses them.</p>
        </Modal>
      )}
    </div>
  );
}

function ConflictDialog(props: { doc: FlowDoc; current?: number; onClose: () => void; onReload: () => Promise<void>; onSavedCopy: (name: string) => void }) {
  const [mode, setMode] = useState<'ask' | 'copy'>('ask');
  const [name, setName] = useState(`${props.doc.name}-copy`.slice(0, 64));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const saveCopy = async () => {
    setBusy(true);
    setError('');
    try {
      await api.createFlow(cleanDoc({ ...props.doc, name }));
      toast(`Saved your version as ${name}`);
      props.onSavedCopy(name);
    } catch (e) {
      const err = e as ApiError;
      setError(err.status === 409 ? `A flow named “${name}” already exists; choose another name.` : err.message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Someone else saved this flow first"
      onClose={props.onClose}
      testId="conflict-dialog"
      footer={
        mode === 'ask' ? (
          <>
            <button onClick={props.onClose}>Keep editing</button>
            <button
              className="danger"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await props.onReload();
                } catch (e) {
                  setError((e as Error).message);
                  setBusy(false);
                }
              }}
            >
              Reload (discard mine)
            </button>
            <button className="primary" onClick={() => setMode('copy')}>
              Save as a copy…
            </button>
          </>
        ) : (
          <>
            <button onClick={() => setMode('ask')}>Back</button>
            <button className="primary" disabled={busy || !NAME_RE.test(name)} onClick={saveCopy} data-testid="save-copy">
              Save copy
            </button>
          </>
        )
      }
    >
      {mode === 'ask' ? (
        <p>
          While you were editing, this flow was saved by someone else{props.current ? ` (it is now at revision ${props.current})` : ''}. Your changes are not saved yet and
          nothing is lost: reload their version and discard yours, or save yours as a new flow.
        </p>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            void saveCopy();
          }}
        >
          <label>
            Name of the copy
            <input autoFocus aria-label="Copy name" value={name} onChange={(e) => setName(e.target.value.toLowerCase())} className={NAME_RE.test(name) ? '' : 'invalid'} />
          </label>
          <p className="hint">The copy is a new flow with your changes. It has the same trigger path; only one of the two can be deployed at a time.</p>
        </form>
      )}
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}

function FlowOverview(props: { store: EditorStore; doc: FlowDoc; selectedCount: number; selectedEdges: string[]; problems: Problem[]; onPick: (id: string) => void; readOnly: boolean }) {
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
