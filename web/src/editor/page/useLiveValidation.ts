// Validation as you work: POST /validate, debounced, on every change that is
// more than a move; the problems, also by node for the canvas.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api';
import type { FlowDoc, Problem } from '../../types';
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

export function useLiveValidation(doc: FlowDoc) {
  // Test runs and publishing report problems too (setProblems).
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [validated, setValidated] = useState(false);
  const [valError, setValError] = useState('');

  // Validation as you work (debounced), skipping drags that only move nodes.
  const valSeq = useRef(0);
  const lastValidated = useRef<FlowDoc | null>(null);
  useEffect(() => {
    if (lastValidated.current && sameMeaning(lastValidated.current, doc)) return;
    const seq = ++valSeq.current;
    setChecking(true);
    const h = setTimeout(async () => {
      try {
        const ps = await api.validate(cleanDoc(doc));
        if (seq !== valSeq.current) return;
        lastValidated.current = doc;
        setValidated(true);
        setProblems(ps);
        setValError('');
      } catch (e) {
        if (seq === valSeq.current) setValError((e as Error).message);
      } finally {
        if (seq === valSeq.current) setChecking(false);
      }
    }, 450);
    return () => clearTimeout(h);
  }, [doc]);

  const byNode = useMemo(() => problemsByNode(problems), [problems]);

  return { problems, setProblems, byNode, checking, validated, valError };
}

export type Validation = ReturnType<typeof useLiveValidation>;
