// An expression's editor: completion from the flow's types, its problems
// underlined where they are once typing pauses, and its value against the
// last test run beside it (the quickest way to learn expressions).
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { Diagnostic } from '@codemirror/lint';
import { api } from '../api';
import { CodeEditor } from '../cm/CodeEditor';
import { exprContext, exprContextStore } from '../cm/expr';
import { languageFor } from '../cm/langs';
import type { FieldProblem } from './fields';

/** How long typing must pause before problems show: no flashing mid-word. */
const PAUSE_MS = 700;

const exprExts = () => languageFor('expr');

export function ExprEditor(props: {
  value: string;
  onChange: (v: string) => void;
  placeholder: string;
  ariaLabel: string;
  problems: FieldProblem[];
  invalid: boolean;
  /** The messages under the field, given while typing has paused. */
  renderMessages: (items: FieldProblem[]) => React.ReactNode;
}) {
  const typing = useTypingPause(props.value);
  const diagnostics: Diagnostic[] = useMemo(
    () =>
      typing
        ? []
        : props.problems.filter((p) => p.at).map((p) => ({ from: p.at!.from, to: Math.max(p.at!.to, p.at!.from + 1), severity: p.severity, message: p.message })),
    [typing, props.problems],
  );
  useSyncExternalStore(exprContextStore.subscribe, exprContextStore.version);
  return (
    <>
      <CodeEditor
        value={props.value}
        onChange={props.onChange}
        extensions={exprExts()}
        placeholder={placeholderFor(props.placeholder)}
        ariaLabel={props.ariaLabel}
        invalid={props.invalid && !typing}
        diagnostics={diagnostics}
      />
      {!typing && props.renderMessages(props.problems)}
      <LiveValue expr={props.value} />
    </>
  );
}

/** True while the value keeps changing, until it has been still for PAUSE_MS. */
function useTypingPause(value: string): boolean {
  const [typing, setTyping] = useState(false);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setTyping(true);
    const h = setTimeout(() => setTyping(false), PAUSE_MS);
    return () => clearTimeout(h);
  }, [value]);
  return typing;
}

/**
 * Placeholders of the node types name an example node (nodes.calc.total);
 * where the flow has a node with a known field, it names that instead.
 */
export function placeholderFor(text: string): string {
  if (!/nodes\.calc\b/.test(text)) return text;
  const c = exprContext.current;
  for (const id of c.nodeIds) {
    const t = c.types?.[id];
    const field = t?.kind === 'map' && t.fields ? Object.keys(t.fields)[0] : undefined;
    if (id !== c.triggerId && field) return text.replace(/nodes\.calc\.total\b/g, `nodes.${id}.${field}`).replace(/nodes\.calc\b/g, `nodes.${id}`);
  }
  return text;
}

/** The value an expression gives against the last test run, or why it fails there. */
function LiveValue({ expr }: { expr: string }) {
  const c = exprContext.current;
  const run = c.run;
  const [shown, setShown] = useState<{ value?: unknown; error?: string } | null>(null);
  const src = expr.trim();
  useEffect(() => {
    if (!run || !src || /^-?\d+$/.test(src)) {
      setShown(null);
      return;
    }
    let live = true;
    const h = setTimeout(async () => {
      try {
        const r = await api.preview({ expr: src, request: c.request, nodes: c.outputs, env: run.env, trace_id: run.traceId });
        if (live) setShown(r);
      } catch {
        if (live) setShown(null); // a preview is a convenience; the Problems list says what is wrong
      }
    }, 300);
    return () => {
      live = false;
      clearTimeout(h);
    };
  }, [src, run, c.outputs, c.request]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!run || !shown) return null;
  if (shown.error !== undefined)
    return (
      <div className="live-value failed" data-testid="live-value" title="What this expression gives with the last test run's data">
        <span className="live-label">last run:</span> fails: {shown.error}
      </div>
    );
  return (
    <div className="live-value" data-testid="live-value" title="What this expression gives with the last test run's data">
      <span className="live-label">last run:</span> <code>{render(shown.value)}</code>
    </div>
  );
}

function render(v: unknown): string {
  if (v === undefined || v === null) return 'nil';
  const s = JSON.stringify(v);
  return s.length > 200 ? s.slice(0, 197) + '…' : s;
}
