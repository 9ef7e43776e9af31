// Auto-layout with dagre: left to right, in execution order.
import { Graph, layout } from '@dagrejs/dagre';
import type { FlowDoc, Position } from '../types';
import { portOf } from '../flow';

export type Size = { width: number; height: number };

export function autoLayout(doc: FlowDoc, sizeOf: (id: string) => Size | undefined): Map<string, Position> {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 36, ranksep: 90, edgesep: 20, marginx: 20, marginy: 20 });
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
