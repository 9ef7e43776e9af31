// The node-graph canvas. The document in the store is the source of truth;
// React Flow's nodes and edges are derived from it (with per-node caching so
// a drag re-renders one node, not all of them).
import { useCallback, useMemo, useRef, useState } from 'react';
import {
  Background,
  BackgroundVariant,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type OnConnectStartParams,
  useStore,
} from '@xyflow/react';
import type { FlowDoc, FlowEdge, FlowNode, Problem, Spec, Span } from '../types';
import { edgeKey, hasInput, portOf, portsOf } from '../flow';
import { isError, isWarning } from '../problems';
import { FlowNodeView, type FlowRFNode, type RunStatus } from './FlowNodeView';
import { useCategoryColor } from '../catalog';
import { EditorStore, useEditor } from './store';

const nodeTypes = { flow: FlowNodeView };

export interface RunView {
  spans: Map<string, Span>;
  /** The nodes the run's document had: a node added since did not "skip", it was not there. */
  nodes: Set<string>;
  /** The flow changed in meaning since the run: its results are shown dimmed. */
  stale: boolean;
}

interface Props {
  store: EditorStore;
  byType: Map<string, Spec>;
  problems: Map<string, Problem[]>;
  run: RunView | null;
  /** Nodes whose output is pinned as sample data for test runs. */
  pinned?: ReadonlySet<string>;
  onNodeDoubleClick?: (id: string) => void;
  onNodeClick?: (id: string) => void;
  /** Fit the flow in view at first; a new, nearly empty flow starts at the top left instead. */
  initialFit: boolean;
  /** A viewer's canvas: pan, zoom and select, but no moving, connecting or deleting. */
  readOnly?: boolean;
}

type Cached = { src: FlowNode; spec?: Spec; selected: boolean; status?: RunStatus; stale: boolean; pin: boolean; problems: Problem[] | undefined; w?: number; h?: number; taken?: string; rf: FlowRFNode };

export function Canvas({ store, byType, problems, run, pinned, onNodeDoubleClick, onNodeClick, initialFit, readOnly = false }: Props) {
  const categoryColor = useCategoryColor();
  const doc = useEditor(store, (s) => s.doc);
  const selectedNodes = useEditor(store, (s) => s.selectedNodes);
  const selectedEdges = useEditor(store, (s) => s.selectedEdges);
  const cache = useRef(new Map<string, Cached>());
  const measured = useRef(new Map<string, { width: number; height: number }>());
  const [measureTick, setMeasureTick] = useState(0);
  const dragStart = useRef<FlowDoc | null>(null);
  // Far out, labels are unreadable: leave them out (cheaper to draw, too).
  const zoomedOut = useStore((s) => s.transform[2] < 0.45);

  const nodes = useMemo(() => {
    void measureTick;
    const sel = new Set(selectedNodes);
    const next = new Map<string, Cached>();
    const out: FlowRFNode[] = [];
    doc.nodes.forEach((n, i) => {
      const spec = byType.get(n.type);
      const selected = sel.has(n.id);
      const span = run?.spans.get(n.id);
      const status: RunStatus | undefined = run?.nodes.has(n.id) ? (span ? (span.error ? 'failed' : 'ok') : 'skipped') : undefined;
      const stale = !!status && !!run?.stale;
      const pin = !!pinned?.has(n.id);
      const probs = problems.get(n.id);
      const m = measured.current.get(n.id);
      const taken = span?.port;
      const prev = cache.current.get(n.id);
      let c: Cached;
      if (prev && prev.src === n && prev.spec === spec && prev.selected === selected && prev.status === status && prev.stale === stale && prev.pin === pin && prev.problems === probs && prev.w === m?.width && prev.h === m?.height && prev.taken === taken) {
        c = prev;
      } else {
        const errs = probs?.filter(isError) ?? [];
        const warns = probs?.filter(isWarning) ?? [];
        const rf: FlowRFNode = {
          id: n.id,
          type: 'flow',
          position: n.position ?? { x: 80 + (i % 6) * 240, y: 80 + Math.floor(i / 6) * 160 },
          selected,
          data: {
            node: n,
            spec,
            ports: portsOf(n, spec),
            status,
            stale,
            pinned: pin,
            duration: span?.duration_ms,
            problems: errs.length,
            problemText: errs.map((p) => p.message).join('\n') || undefined,
            warnings: warns.length,
            warningText: warns.map((p) => `warning: ${p.message}`).join('\n') || undefined,
            takenPort: taken,
          },
        };
        if (m) rf.measured = m;
        c = { src: n, spec, selected, status, stale, pin, problems: probs, w: m?.width, h: m?.height, taken, rf };
      }
      next.set(n.id, c);
      out.push(c.rf);
    });
    cache.current = next;
    return out;
  }, [doc.nodes, selectedNodes, byType, problems, run, pinned, measureTick]);

  const edges = useMemo(() => {
    const sel = new Set(selectedEdges);
    const seen = new Set<string>();
    const out: Edge[] = [];
    for (const e of doc.edges) {
      let id = edgeKey(e);
      while (seen.has(id)) id += "'";
      seen.add(id);
      const port = portOf(e);
      const fromSpan = run?.spans.get(e.from);
      const active = !!fromSpan && (fromSpan.port ?? 'out') === port && !!run?.spans.get(e.to);
      out.push({
        id,
        source: e.from,
        sourceHandle: port,
        target: e.to,
        targetHandle: 'in',
        label: port,
        selected: sel.has(id),
        className: `port-${port === 'error' ? 'error' : 'ok'}${active ? ' active' : ''}${run && !active ? ' inactive' : ''}`,
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        data: { edge: e },
      });
    }
    return out;
  }, [doc.edges, selectedEdges, run]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowRFNode>[]) => {
      let moved: Map<string, { x: number; y: number }> | null = null;
      let dragEnded = false;
      let measuredChanged = false;
      let selChanged = false;
      const sel = new Set(store.get().selectedNodes);
      for (const ch of changes) {
        if (ch.type === 'position') {
          if (ch.position) (moved ??= new Map()).set(ch.id, { x: Math.round(ch.position.x), y: Math.round(ch.position.y) });
          if (ch.dragging === false) dragEnded = true;
        } else if (ch.type === 'dimensions' && ch.dimensions) {
          const prev = measured.current.get(ch.id);
          if (!prev || prev.width !== ch.dimensions.width || prev.height !== ch.dimensions.height) {
            measured.current.set(ch.id, ch.dimensions);
            measuredChanged = true;
          }
        } else if (ch.type === 'select') {
          if (ch.selected) sel.add(ch.id);
          else sel.delete(ch.id);
          selChanged = true;
        }
      }
      if (moved) {
        if (!dragStart.current) dragStart.current = store.get().doc;
        const m = moved;
        store.apply(
          (d) => ({ ...d, nodes: d.nodes.map((n) => (m.has(n.id) ? { ...n, position: m.get(n.id)! } : n)) }),
          { transient: true },
        );
      }
      if (dragEnded && dragStart.current) {
        store.commitFrom(dragStart.current);
        dragStart.current = null;
      }
      if (selChanged) {
        const order = store.get().doc.nodes.map((n) => n.id).filter((id) => sel.has(id));
        store.select(order, store.get().selectedEdges);
      }
      if (measuredChanged) setMeasureTick((t) => t + 1);
    },
    [store],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const sel = new Set(store.get().selectedEdges);
      let changed = false;
      for (const ch of changes) {
        if (ch.type === 'select') {
          if (ch.selected) sel.add(ch.id);
          else sel.delete(ch.id);
          changed = true;
        }
      }
      if (changed) store.select(store.get().selectedNodes, [...sel]);
    },
    [store],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.source || !c.target || c.source === c.target) return;
      const port = c.sourceHandle || 'out';
      store.apply((d) => {
        if (d.edges.some((e) => e.from === c.source && e.to === c.target && portOf(e) === port)) return d;
        const edge: FlowEdge = { from: c.source, to: c.target };
        if (port !== 'out') edge.port = port;
        return { ...d, edges: [...d.edges, edge] };
      });
    },
    [store],
  );

  const isValidConnection = useCallback(
    (c: Connection | Edge) => {
      if (c.source === c.target) return false;
      const target = store.get().doc.nodes.find((n) => n.id === c.target);
      return !!target && hasInput(target);
    },
    [store],
  );

  const onDelete = useCallback(
    ({ nodes: ns, edges: es }: { nodes: FlowRFNode[]; edges: Edge[] }) => {
      const ids = new Set(ns.map((n) => n.id));
      const edgeIds = new Set(es.map((e) => e.id));
      store.apply((d) => {
        const seen = new Set<string>();
        return {
          ...d,
          nodes: d.nodes.filter((n) => !ids.has(n.id)),
          edges: d.edges.filter((e) => {
            let id = edgeKey(e);
            while (seen.has(id)) id += "'";
            seen.add(id);
            return !edgeIds.has(id) && !ids.has(e.from) && !ids.has(e.to);
          }),
        };
      });
      store.select([], []);
    },
    [store],
  );

  const onConnectStart = useCallback((_: unknown, _p: OnConnectStartParams) => {
    document.body.classList.add('connecting');
  }, []);
  const onConnectEnd = useCallback(() => document.body.classList.remove('connecting'), []);

  return (
    <ReactFlow<FlowRFNode, Edge>
      className={[zoomedOut && 'zoomed-out', run?.stale && 'run-stale'].filter(Boolean).join(' ') || undefined}
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onConnect={onConnect}
      onConnectStart={onConnectStart}
      onConnectEnd={onConnectEnd}
      onDelete={onDelete}
      isValidConnection={isValidConnection}
      onNodeDoubleClick={(_, n) => onNodeDoubleClick?.(n.id)}
      onNodeClick={(_, n) => onNodeClick?.(n.id)}
      deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
      fitView={initialFit}
      defaultViewport={{ x: 0, y: 0, zoom: 1 }}
      fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
      minZoom={0.1}
      maxZoom={2.5}
      proOptions={{ hideAttribution: true }}
      defaultEdgeOptions={{ interactionWidth: 14 }}
      edgesReconnectable={false}
      onlyRenderVisibleElements={doc.nodes.length > 60}
    >
      <Background variant={BackgroundVariant.Dots} gap={18} size={1} />
      <Controls position="bottom-left" showInteractive={false} />
      <MiniMap position="bottom-right" pannable zoomable nodeColor={(n) => categoryColor((n.data as { spec?: Spec }).spec?.category)} />
    </ReactFlow>
  );
}
