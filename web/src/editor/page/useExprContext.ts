// Tells expression completion and previews (cm/expr.ts) about this flow:
// node ids and types, the type of each node's output, the last test run's
// data, variable names, path parameters.
import { useEffect, useMemo } from 'react';
import type { FlowDoc, TestResult, ValueType } from '../../types';
import { pathParams, triggerOf } from '../../flow';
import { setExprContext } from '../../cm/expr';
import type { TestEnv } from '../TestPanel';

/** The nodes that can run before id: those with a path of edges to it. */
export function upstreamOf(doc: FlowDoc, id: string): Set<string> {
  const seen = new Set<string>();
  const todo = [id];
  while (todo.length) {
    const cur = todo.pop()!;
    for (const e of doc.edges) if (e.to === cur && !seen.has(e.from)) (seen.add(e.from), todo.push(e.from));
  }
  seen.delete(id);
  return seen;
}

export function useExprContext(
  doc: FlowDoc,
  testResult: TestResult | null,
  testEnv: TestEnv,
  routePath: string,
  types: Record<string, ValueType>,
  /** The node being edited: completion offers what runs before it. */
  editing: string | undefined,
) {
  // Stable while the run and its environment are: previews refetch on them.
  const outputs = useMemo(() => {
    const o: Record<string, unknown> = {};
    for (const s of testResult?.trace.spans ?? []) o[s.id] = s.output;
    return o;
  }, [testResult]);
  const run = useMemo(
    () =>
      testResult
        ? {
            traceId: testResult.trace.id,
            // Secrets stay out of previews: they show as [redacted], as in a run's answer.
            env: Object.fromEntries([...testEnv.env.map((p) => [p.key, p.value]), ...testEnv.secrets.map((p) => [p.key, '[redacted]'])].filter(([k]) => k)),
          }
        : null,
    [testResult, testEnv],
  );
  useEffect(() => {
    const trig = triggerOf(doc);
    setExprContext({
      nodeIds: doc.nodes.map((n) => n.id),
      nodeTypes: Object.fromEntries(doc.nodes.map((n) => [n.id, n.type])),
      outputs,
      envNames: [...testEnv.env, ...testEnv.secrets].map((p) => p.key).filter(Boolean),
      pathParams: pathParams(routePath),
      request: trig ? outputs[trig.id] : undefined,
      types,
      triggerId: trig?.id,
      editing: editing ? { id: editing, upstream: upstreamOf(doc, editing) } : undefined,
      run,
    });
  }, [doc, outputs, run, testEnv, routePath, types, editing]);
}
