// Adding nodes from the palette: dropped where the pointer is (or the
// nearest free place: a node on top of another hides its ports), or (Enter,
// +) after the selected node, wired from its next free port, so a flow can
// be built by pressing Enter on one node type after another; with nothing
// selected, in the middle of the view.
import { useCallback, type RefObject } from 'react';
import { useReactFlow } from '@xyflow/react';
import type { FlowEdge, Spec } from '../../types';
import { TRIGGER, initialConfig, newNodeId, nextPort } from '../../flow';
import { toast } from '../../ui';
import type { EditorStore } from '../store';
import type { Tab } from './useEditorNavigation';

export function useAddNode(store: EditorStore, byType: Map<string, Spec>, canvasRef: RefObject<HTMLDivElement | null>, setTab: (tab: Tab) => void) {
  const rf = useReactFlow();
  const addNode = useCallback(
    (type: string, pos: { x: number; y: number }, edge?: Omit<FlowEdge, 'to'>) => {
      const spec = byType.get(type);
      if (type === TRIGGER && store.get().doc.nodes.some((n) => n.type === TRIGGER)) toast('A flow has exactly one trigger; this one will be reported as a problem.', 'error');
      const id = newNodeId(type, store.get().doc.nodes.map((n) => n.id));
      const wired = edge && type !== TRIGGER ? [{ ...edge, to: id }] : [];
      store.apply((d) => ({
        ...d,
        nodes: [...d.nodes, { id, type, config: initialConfig(spec), position: { x: Math.round(pos.x), y: Math.round(pos.y) } }],
        edges: [...d.edges, ...wired],
      }));
      store.select([id], []);
      setTab('node');
    },
    [byType, store, setTab],
  );

  /** The nearest place to want (a node's top left) where a new node overlaps no other, searched in rings. */
  const freeSpot = useCallback(
    (want: { x: number; y: number }, directions: number[][]) => {
      const boxes = store.get().doc.nodes.map((n) => {
        const m = rf.getNode(n.id)?.measured;
        return { x: n.position?.x ?? 0, y: n.position?.y ?? 0, w: m?.width ?? 200, h: m?.height ?? 100 };
      });
      const free = (x: number, y: number) => boxes.every((b) => x + 200 + 16 < b.x || x > b.x + b.w + 16 || y + 100 + 16 < b.y || y > b.y + b.h + 16);
      for (let ring = 0; ring < 12; ring++) {
        for (const [dx, dy] of directions) {
          const c = { x: want.x + dx * ring * 120, y: want.y + dy * ring * 120 };
          if (free(c.x, c.y)) return c;
        }
      }
      return want;
    },
    [rf, store],
  );

  const onPaletteDrop = useCallback(
    (type: string, x: number, y: number) => {
      const r = canvasRef.current?.getBoundingClientRect();
      if (!r || x < r.left || x > r.right || y < r.top || y > r.bottom) return false;
      const p = rf.screenToFlowPosition({ x, y });
      addNode(type, freeSpot({ x: p.x - 90, y: p.y - 30 }, AROUND));
      return true;
    },
    [rf, addNode, freeSpot],
  );

  const onPaletteAdd = useCallback(
    (type: string) => {
      const { doc, selectedNodes } = store.get();
      const after = selectedNodes.length === 1 ? doc.nodes.find((n) => n.id === selectedNodes[0]) : undefined;
      const port = after && nextPort(doc, after, byType.get(after.type));
      if (after && port) {
        // Right of it, lower for each port already taken, then the nearest free place.
        const m = rf.getNode(after.id)?.measured;
        const taken = doc.edges.filter((e) => e.from === after.id).length;
        const want = { x: (after.position?.x ?? 0) + (m?.width ?? 200) + 80, y: (after.position?.y ?? 0) + taken * 130 };
        addNode(type, freeSpot(want, [[0, 1], [1, 0], [1, 1]]), { from: after.id, ...(port === 'out' ? {} : { port }) });
        return;
      }
      const r = canvasRef.current!.getBoundingClientRect();
      const p = rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
      addNode(type, freeSpot({ x: p.x - 100, y: p.y - 50 }, AROUND));
    },
    [rf, addNode, store, byType, freeSpot],
  );

  return { onPaletteDrop, onPaletteAdd };
}

const AROUND = [
  [0, 1],
  [1, 0],
  [0, -1],
  [-1, 0],
  [1, 1],
  [-1, 1],
  [1, -1],
  [-1, -1],
];
