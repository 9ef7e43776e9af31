// Auto-layout with dagre: left to right, in execution order.
import { Graph, layout } from '@dagrejs/dagre';
import type { FlowDoc, Position } from '../types';
import { portOf } from '../flow';

export type Size = { width: number; height: number };

export function autoLayout(doc: FlowDoc, sizeOf: (id: string) => Size | undefined): Map<string, Position> {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 36, ranksep: 70, edgesep: 20, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of doc.nodes) {
    const s = sizeOf(n.id) ?? { width: 200, height: 96 };
    g.setNode(n.id, { width: s.width, height: s.height });
  }
  const ids = new Set(doc.nodes.map((n) => n.id));
  doc.edges.forEach((e, i) => {
    if (ids.has(e.from) && ids.has(e.to) && e.from !== e.to) g.setEdge(e.from, e.to, { weight: portOf(e) === 'error' ? 1 : 2 }, `e${i}`);
  });
  layout(g);
  const out = new Map<string, Position>();
  for (const n of doc.nodes) {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number } | undefined;
    if (p) out.set(n.id, { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) });
  }
  return out;
}

export type Rect = { x: number; y: number; width: number; height: number };
export type Viewport = { x: number; y: number; zoom: number };

/** The smallest rectangle holding all of rects (null for none). */
export function boundsOf(rects: Iterable<Rect>): Rect | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const r of rects) {
    x0 = Math.min(x0, r.x);
    y0 = Math.min(y0, r.y);
    x1 = Math.max(x1, r.x + r.width);
    y1 = Math.max(y1, r.y + r.height);
  }
  return x0 === Infinity ? null : { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export interface FitOptions {
  /** Room around the flow, as a fraction of its size (as React Flow's fitView). */
  padding: number;
  /** Below this, node texts are unreadable: a large flow is shown from its start instead. */
  minZoom: number;
  maxZoom: number;
  /** Pixels kept free at the edges when showing a large flow from its start. */
  margin: number;
}

export const LAYOUT_FIT: FitOptions = { padding: 0.15, minZoom: 0.75, maxZoom: 1.2, margin: 40 };

/**
 * The viewport after auto-layout: the whole flow when it fits at a readable
 * zoom; otherwise the minimum zoom, with the start of the flow (the trigger)
 * at the left, vertically centred on it, without leaving blank space where
 * the flow goes on.
 */
export function fitReadable(bounds: Rect, start: Rect | undefined, view: { width: number; height: number }, o: FitOptions = LAYOUT_FIT): Viewport {
  const w = Math.max(bounds.width, 1) * (1 + o.padding);
  const h = Math.max(bounds.height, 1) * (1 + o.padding);
  const fit = Math.min(view.width / w, view.height / h, o.maxZoom);
  const cx = bounds.x + bounds.width / 2;
  const cy = bounds.y + bounds.height / 2;
  if (fit >= o.minZoom) return { x: view.width / 2 - cx * fit, y: view.height / 2 - cy * fit, zoom: fit };
  const zoom = o.minZoom;
  const s = start ?? { x: bounds.x, y: bounds.y, width: 0, height: 0 };
  const along = (size: number, lo: number, hi: number, want: number, margin: number) => {
    // The flow fits along this axis: centre it; else go where wanted, but
    // never past either end of the flow.
    if ((hi - lo) * zoom + 2 * margin <= size) return size / 2 - ((lo + hi) / 2) * zoom;
    return Math.min(margin - lo * zoom, Math.max(size - margin - hi * zoom, want));
  };
  const x = along(view.width, bounds.x, bounds.x + bounds.width, o.margin - s.x * zoom, o.margin);
  const y = along(view.height, bounds.y, bounds.y + bounds.height, view.height / 2 - (s.y + s.height / 2) * zoom, o.margin);
  return { x, y, zoom };
}
