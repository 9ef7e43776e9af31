// Copy and paste of nodes (with the edges between them), also across tabs
// through localStorage; pasted ids are renamed where taken, and so are
// nodes.<id> references in the pasted config.
import { useCallback, useRef } from 'react';
import type { FlowEdge, FlowNode } from '../../types';
import { edgeKey, newNodeId } from '../../flow';
import { toast } from '../../ui';
import type { EditorStore } from '../store';

interface Clip {
  nodes: FlowNode[];
  edges: FlowEdge[];
}
let clipboard: Clip | null = null;

export function useClipboard(store: EditorStore) {
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

  return { copy, paste };
}
