// Adding nodes from the palette: dropped where the pointer is, or (Enter, +)
// in the middle of the view or the nearest free place below it.
import { useCallback, type RefObject } from 'react';
import { useReactFlow } from '@xyflow/react';
import type { Spec } from '../../types';
import { TRIGGER, initialConfig, newNodeId } from '../../flow';
import { toast } from '../../ui';
import type { EditorStore } from '../store';
import type { Tab } from './useEditorNavigation';

export function useAddNode(store: EditorStore, byType: Map<string, Spec>, canvasRef: RefObject<HTMLDivElement | null>, setTab: (tab: Tab) => void) {
  const rf = useReactFlow();
  const addNode = useCallback(
    (type: string, pos: { x: number; y: number }) => {
      const spec = byType.get(type);
      if (type === TRIGGER && store.get().doc.nodes.some((n) => n.type === TRIGGER)) toast('A flow has exactly one trigger; this one will be reported as a problem.', 'error');
      const id = newNodeId(type, store.get().doc.nodes.map((n) => n.id));
      store.apply((d) => ({ ...d, nodes: [...d.nodes, { id, type, config: initialConfig(spec), position: { x: Math.round(pos.x), y: Math.round(pos.y) } }] }));
      store.select([id], []);
      setTab('node');
    },
    [byType, store, setTab],
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

  return { onPaletteDrop, onPaletteAdd };
}
