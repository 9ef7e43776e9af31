// Validation as you work: POST /analyze, debounced, on every change that is
// more than a move and after every test run (whose outputs type what the
// flow itself does not say); the problems, also by node for the canvas, and
// the type of every node's output for completion.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api';
import type { FlowDoc, Problem, TestResult, ValueType } from '../../types';
import { cleanDoc, problemsByNode } from '../../flow';

/** Only positions differ: no need to validate again. */
function sameMeaning(a: FlowDoc, b: FlowDoc): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.version !== b.version || a.edges !== b.edges || a.nodes.length !== b.nodes.length) return false;
  return a.nodes.every((n, i) => {
    const m = b.nodes[i];
    return n === m || (n.id === m.id && n.type === m.type && n.config === m.config);
  });
}

/** The outputs of the last test run by node: what typing learns from. */
export function runSamples(r: TestResult | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of r?.trace.spans ?? []) if (s.output !== undefined && !s.error) out[s.id] = s.output;
  return out;
}

export function useLiveValidation(doc: FlowDoc, testResult: TestResult | null) {
  // Test runs and publishing report problems too (setProblems).
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [validated, setValidated] = useState(false);
  const [valError, setValError] = useState('');
  const [types, setTypes] = useState<Record<string, ValueType>>({});

  // Validation as you work (debounced), skipping drags that only move nodes.
  const valSeq = useRef(0);
  const lastValidated = useRef<{ doc: FlowDoc; run: TestResult | null } | null>(null);
  useEffect(() => {
    const last = lastValidated.current;
    if (last && last.run === testResult && sameMeaning(last.doc, doc)) return;
    const seq = ++valSeq.current;
    setChecking(true);
    const h = setTimeout(async () => {
      try {
        const a = await api.analyze(cleanDoc(doc), runSamples(testResult));
        if (seq !== valSeq.current) return;
        lastValidated.current = { doc, run: testResult };
        setValidated(true);
        setProblems(a.problems);
        setTypes(a.types);
        setValError('');
      } catch (e) {
        if (seq === valSeq.current) setValError((e as Error).message);
      } finally {
        if (seq === valSeq.current) setChecking(false);
      }
    }, 450);
    return () => clearTimeout(h);
  }, [doc, testResult]);

  const byNode = useMemo(() => problemsByNode(problems), [problems]);

  return { problems, setProblems, byNode, checking, validated, valError, types };
}

export type Validation = ReturnType<typeof useLiveValidation>;
