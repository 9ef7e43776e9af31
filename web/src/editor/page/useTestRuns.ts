// The state of test runs: the last result (drawn on the canvas), the request
// being composed, and the environment of test runs (saved per flow). The
// result keeps the document it ran, so the canvas and the Test tab can say
// when the flow changed in meaning since (stale results).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { FlowDoc, TestResult } from '../../types';
import { triggerRoute } from '../../flow';
import { toast } from '../../ui';
import { addAllowEntry } from '../../endpoint';
import { sameRunMeaning } from '../../drift';
import type { RunView } from '../Canvas';
import { EditorStore, useEditor } from '../store';
import { initialDraft, loadTestEnv, saveTestEnv, type Draft, type TestEnv } from '../TestPanel';

export function useTestRuns(savedName: string, initialDoc: FlowDoc, store: EditorStore) {
  const [last, setLast] = useState<{ result: TestResult; doc: FlowDoc } | null>(null);
  const [draft, setDraft] = useState<Draft>(() => initialDraft(savedName, triggerRoute(initialDoc)));
  const [testEnv, setTestEnv] = useState<TestEnv>(() => loadTestEnv(savedName));
  useEffect(() => saveTestEnv(savedName, testEnv), [savedName, testEnv]);
  // A node's call refused by the egress policy: allow its address for test runs.
  const allowEgress = useCallback((addr: string) => {
    setTestEnv((e) => ({ ...e, egress: addAllowEntry(e.egress, addr) }));
    toast(`Test runs may call ${addr} now; run the test again.`);
  }, []);

  // The document a run sends, taken when it starts: edits made while it
  // runs already make its result stale.
  const sent = useRef<FlowDoc | null>(null);
  const docForRun = useCallback(() => {
    sent.current = store.get().doc;
    return sent.current;
  }, [store]);
  const setTestResult = useCallback(
    (r: TestResult | null) => {
      setLast(r ? { result: r, doc: sent.current ?? store.get().doc } : null);
      sent.current = null;
    },
    [store],
  );

  // Moves keep results current; anything else (nodes, configs, edges) makes them stale.
  const doc = useEditor(store, (s) => s.doc);
  const stale = !!last && !sameRunMeaning(last.doc, doc);
  const spans = useMemo(() => (last ? new Map(last.result.trace.spans.map((s) => [s.id, s])) : null), [last]);
  const ranNodes = useMemo(() => (last ? new Set(last.doc.nodes.map((n) => n.id)) : null), [last]);
  const run: RunView | null = useMemo(() => (spans && ranNodes ? { spans, nodes: ranNodes, stale } : null), [spans, ranNodes, stale]);

  const pins = testEnv.pins;
  const pinned = useMemo(() => new Set(Object.keys(pins)), [pins]);

  return { testResult: last?.result ?? null, setTestResult, docForRun, run, stale, draft, setDraft, testEnv, setTestEnv, allowEgress, pinned };
}

export type TestRuns = ReturnType<typeof useTestRuns>;
