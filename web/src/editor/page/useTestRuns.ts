// The state of test runs: the last result (drawn on the canvas), the request
// being composed, and the environment of test runs (saved per flow).
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { FlowDoc, TestResult } from '../../types';
import { triggerRoute } from '../../flow';
import { toast } from '../../ui';
import { addAllowEntry } from '../../endpoint';
import type { RunView } from '../Canvas';
import { initialDraft, loadTestEnv, saveTestEnv, type Draft, type TestEnv } from '../TestPanel';

export function useTestRuns(savedName: string, initialDoc: FlowDoc) {
  const [testResult, setTestResult] = useState<TestResult | null>(null);
  const [draft, setDraft] = useState<Draft>(() => initialDraft(savedName, triggerRoute(initialDoc)));
  const [testEnv, setTestEnv] = useState<TestEnv>(() => loadTestEnv(savedName));
  useEffect(() => saveTestEnv(savedName, testEnv), [savedName, testEnv]);
  // A node's call refused by the egress policy: allow its address for test runs.
  const allowEgress = useCallback((addr: string) => {
    setTestEnv((e) => ({ ...e, egress: addAllowEntry(e.egress, addr) }));
    toast(`Test runs may call ${addr} now; run the test again.`);
  }, []);

  const run: RunView | null = useMemo(() => (testResult ? { spans: new Map(testResult.trace.spans.map((s) => [s.id, s])) } : null), [testResult]);

  return { testResult, setTestResult, run, draft, setDraft, testEnv, setTestEnv, allowEgress };
}

export type TestRuns = ReturnType<typeof useTestRuns>;
