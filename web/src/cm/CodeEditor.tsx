// A CodeMirror 6 editor as a controlled React component.
import { createContext, useContext, useEffect, useRef } from 'react';
import { Annotation, Compartment, EditorState, type Extension } from '@codemirror/state';
import { EditorView, keymap, placeholder as cmPlaceholder, drawSelection, highlightActiveLine, lineNumbers } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { setDiagnostics, type Diagnostic } from '@codemirror/lint';

const External = Annotation.define<boolean>();

/** Makes every editor below read-only (a viewer looking at a flow's forms). */
export const ReadOnlyContext = createContext(false);

const readOnlyExtensions = (ro: boolean): Extension => (ro ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : []);

export interface CodeEditorProps {
  value: string;
  onChange: (v: string) => void;
  /** Language, completion and any other extensions. */
  extensions?: Extension[];
  placeholder?: string;
  ariaLabel?: string;
  invalid?: boolean;
  /** Multi-line code (line numbers, Tab indents) rather than an expression box. */
  code?: boolean;
  onBlur?: () => void;
  testId?: string;
  /** Problems underlined where they are; positions in characters of value. */
  diagnostics?: Diagnostic[];
}

const theme = EditorView.theme({
  '&': { fontSize: '12.5px', backgroundColor: 'var(--input-bg)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-content': { fontFamily: 'var(--mono)', padding: '4px 0' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.45' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { background: 'var(--accent)', color: '#fff' },
});

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  const onBlur = useRef(props.onBlur);
  onChange.current = props.onChange;
  onBlur.current = props.onBlur;
  const readOnly = useContext(ReadOnlyContext);
  // Per editor, so that read-only can change without recreating it.
  const readOnlyConf = useRef(new Compartment());

  useEffect(() => {
    const exts: Extension[] = [
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...(props.code ? [indentWithTab] : [])]),
      EditorView.lineWrapping,
      theme,
      EditorView.contentAttributes.of({ 'aria-label': props.ariaLabel ?? 'editor', ...(props.testId ? { 'data-testid': props.testId } : {}) }),
      EditorView.updateListener.of((u) => {
        if (u.docChanged && !u.transactions.some((t) => t.annotation(External))) onChange.current(u.state.doc.toString());
        if (u.focusChanged && !u.view.hasFocus) onBlur.current?.();
      }),
      ...(props.code ? [lineNumbers(), highlightActiveLine()] : []),
      ...(props.placeholder ? [cmPlaceholder(props.placeholder)] : []),
      ...(props.extensions ?? []),
      readOnlyConf.current.of(readOnlyExtensions(readOnly)),
    ];
    const v = new EditorView({ state: EditorState.create({ doc: props.value, extensions: exts }), parent: host.current! });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once; value changes are synced below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const cur = v.state.doc.toString();
    if (cur !== props.value) {
      v.dispatch({ changes: { from: 0, to: cur.length, insert: props.value }, annotations: External.of(true) });
    }
  }, [props.value]);

  useEffect(() => {
    view.current?.dispatch({ effects: readOnlyConf.current.reconfigure(readOnlyExtensions(readOnly)) });
  }, [readOnly]);

  const diagnostics = props.diagnostics;
  const shownDiagnostics = useRef(0);
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const len = v.state.doc.length;
    // Clamped: the problems may be of a slightly older text.
    const ds = (diagnostics ?? []).map((d) => ({ ...d, from: Math.min(d.from, len), to: Math.min(Math.max(d.to, d.from), len) }));
    if (ds.length === 0 && shownDiagnostics.current === 0) return; // most editors never have any
    shownDiagnostics.current = ds.length;
    v.dispatch(setDiagnostics(v.state, ds));
  }, [diagnostics]);

  return <div ref={host} className={`cm-host${props.code ? ' cm-code' : ''}${props.invalid ? ' invalid' : ''}`} />;
}
