// The editor's state: the document (the single source of truth for the
// canvas and the forms), its undo/redo history, and the selection.
import { useSyncExternalStore } from 'react';
import type { FlowDoc } from '../types';

export interface EditorState {
  doc: FlowDoc;
  past: FlowDoc[];
  future: FlowDoc[];
  selectedNodes: string[];
  selectedEdges: string[];
}

export interface ApplyOptions {
  /** Consecutive changes with the same key within a short time are one undo step. */
  coalesce?: string;
  /** Change the document without touching history (drags; see commitFrom). */
  transient?: boolean;
}

const HISTORY_LIMIT = 200;
const COALESCE_MS = 1200;

export class EditorStore {
  private state: EditorState;
  private listeners = new Set<() => void>();
  private lastKey = '';
  private lastAt = 0;

  constructor(doc: FlowDoc) {
    this.state = { doc, past: [], future: [], selectedNodes: [], selectedEdges: [] };
  }

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  get = () => this.state;

  private set(next: EditorState) {
    this.state = next;
    for (const l of this.listeners) l();
  }

  /** Replaces the document and forgets history (load, reload). */
  reset(doc: FlowDoc) {
    this.lastKey = '';
    this.set({ ...this.state, doc, past: [], future: [], selectedNodes: [], selectedEdges: [] });
  }

  apply(fn: (d: FlowDoc) => FlowDoc, opts: ApplyOptions = {}) {
    const cur = this.state.doc;
    const next = fn(cur);
    if (next === cur) return;
    if (opts.transient) {
      this.set({ ...this.state, doc: next });
      return;
    }
    const now = Date.now();
    const merge = !!opts.coalesce && opts.coalesce === this.lastKey && now - this.lastAt < COALESCE_MS;
    this.lastKey = opts.coalesce ?? '';
    this.lastAt = now;
    const past = merge ? this.state.past : [...this.state.past, cur].slice(-HISTORY_LIMIT);
    this.set({ ...this.state, doc: next, past, future: [] });
  }

  /** Records `before` as one undo step after transient changes (a drag). */
  commitFrom(before: FlowDoc) {
    if (before === this.state.doc) return;
    this.lastKey = '';
    this.set({ ...this.state, past: [...this.state.past, before].slice(-HISTORY_LIMIT), future: [] });
  }

  undo() {
    const { past, doc, future } = this.state;
    if (!past.length) return;
    this.lastKey = '';
    const prev = past[past.length - 1];
    this.set({ ...this.state, doc: prev, past: past.slice(0, -1), future: [doc, ...future], ...this.keepSelection(prev) });
  }

  redo() {
    const { past, doc, future } = this.state;
    if (!future.length) return;
    this.lastKey = '';
    const next = future[0];
    this.set({ ...this.state, doc: next, past: [...past, doc], future: future.slice(1), ...this.keepSelection(next) });
  }

  private keepSelection(doc: FlowDoc) {
    const ids = new Set(doc.nodes.map((n) => n.id));
    return { selectedNodes: this.state.selectedNodes.filter((id) => ids.has(id)), selectedEdges: [] as string[] };
  }

  select(nodes: string[], edges: string[] = []) {
    const s = this.state;
    if (same(s.selectedNodes, nodes) && same(s.selectedEdges, edges)) return;
    this.set({ ...s, selectedNodes: nodes, selectedEdges: edges });
  }
}

function same(a: string[], b: string[]) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function useEditor<T>(store: EditorStore, pick: (s: EditorState) => T): T {
  return useSyncExternalStore(store.subscribe, () => pick(store.get()));
}
