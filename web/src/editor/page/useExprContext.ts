// Tells expression completion (cm/expr.ts) about this flow: node ids and
// types, outputs of the last test run, variable names, path parameters.
import { useEffect } from 'react';
import type { FlowDoc, TestResult } from '../../types';
import { pathParams, triggerOf } from '../../flow';
import { exprContext } from '../../cm/expr';
import type { TestEnv } from '../TestPanel';

export function useExprContext(doc: FlowDoc, testResult: TestResult | null, testEnv: TestEnv, routePath: string) {
  useEffect(() => {
    const outputs: Record<string, unknown> = {};
    for (const s of testResult?.trace.spans ?? []) outputs[s.id] = s.output;
    const trig = triggerOf(doc);
    exprContext.current = {
      nodeIds: doc.nodes.map((n) => n.id),
      nodeTypes: Object.fromEntries(doc.nodes.map((n) => [n.id, n.type])),
      outputs,
      envNames: [...testEnv.env, ...testEnv.secrets].map((p) => p.key).filter(Boolean),
      pathParams: pathParams(routePath),
      request: trig ? outputs[trig.id] : undefined,
    };
  }, [doc, testResult, testEnv, routePath]);
}
