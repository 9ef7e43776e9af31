// Which side tab shows, and going to things: a node (selected, centred, its
// form shown) or a problem (its node or edge, then the field it points at).
import { useCallback, useEffect, useRef, useState } from 'react';
import { useReactFlow } from '@xyflow/react';
import type { Problem } from '../../types';
import { edgeKey, formatFieldPath, normalizeFieldPath, parseFieldPath } from '../../flow';
import type { EditorStore } from '../store';

export type Tab = 'node' | 'test' | 'publish' | 'access';

export function useEditorNavigation(store: EditorStore, selectedNodes: string[]) {
  const rf = useReactFlow();
  const [tab, setTab] = useState<Tab>('node');
  const [focusReq, setFocusReq] = useState<{ node: string; field: string; at: number } | null>(null);

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

  return { tab, setTab, pickNode, pickProblem };
}

export type Navigation = ReturnType<typeof useEditorNavigation>;
