// expr-lang (https://expr-lang.org) for CodeMirror: highlighting and the
// completion of the flow environment (request, nodes, env, trace) and of
// expr's built-in functions.
import { StreamLanguage, type StringStream } from '@codemirror/language';
import { autocompletion, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import type { Extension } from '@codemirror/state';
import type { ExprDoc, ValueType } from '../types';

// The variables and built-in functions come from the server's description
// of the expression language (GET /api/v1/node-types), set once at start.
let doc: ExprDoc = { variables: [], functions: [] };
let builtinNames = new Set<string>();

export function setExprDoc(d: ExprDoc) {
  doc = d;
  builtinNames = new Set(d.functions.map((f) => f.name));
}

const KEYWORDS = ['and', 'or', 'not', 'in', 'matches', 'contains', 'startsWith', 'endsWith', 'let', 'if', 'else'];
const ATOMS = ['true', 'false', 'nil'];

interface ExprState {
  afterDot: boolean;
}

const exprLanguage = StreamLanguage.define<ExprState>({
  name: 'expr',
  startState: () => ({ afterDot: false }),
  token(stream: StringStream, state: ExprState) {
    if (stream.eatSpace()) return null;
    if (stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match('/*')) {
      while (!stream.eol() && !stream.match('*/')) stream.next();
      return 'comment';
    }
    const ch = stream.peek()!;
    if (ch === '"' || ch === "'" || ch === '`') {
      stream.next();
      let escaped = false;
      while (!stream.eol()) {
        const c = stream.next();
        if (c === ch && !escaped) break;
        escaped = !escaped && c === '\\' && ch !== '`';
      }
      state.afterDot = false;
      return 'string';
    }
    if (stream.match(/^(0x[0-9a-fA-F_]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)/)) {
      state.afterDot = false;
      return 'number';
    }
    if (stream.match(/^[A-Za-z_$][\w$]*/)) {
      const w = stream.current();
      const wasDot = state.afterDot;
      state.afterDot = false;
      if (wasDot) return 'propertyName';
      if (KEYWORDS.includes(w)) return 'keyword';
      if (ATOMS.includes(w)) return 'bool';
      if (doc.variables.some((v) => v.name === w)) return 'variableName.special';
      if (builtinNames.has(w) && stream.match(/^\s*\(/, false)) return 'variableName.function';
      return 'variableName';
    }
    if (stream.match('?.') || stream.eat('.')) {
      state.afterDot = true;
      return 'punctuation';
    }
    if (stream.match('#')) {
      stream.match(/^[A-Za-z_]\w*/);
      return 'variableName.special';
    }
    if (stream.match(/^(\?\?|==|!=|<=|>=|&&|\|\||\*\*|\.\.|[-+*/%<>!?:|^])/)) {
      state.afterDot = false;
      return 'operator';
    }
    if (stream.match(/^[()[\]{}]/)) {
      state.afterDot = false;
      return 'bracket';
    }
    stream.next();
    state.afterDot = false;
    return 'punctuation';
  },
  languageData: { closeBrackets: { brackets: ['(', '[', '{', '"', "'", '`'] } },
});

/** What completion knows about the flow being edited; set by the editor page. */
export interface ExprCompletionContext {
  nodeIds: string[];
  /** Output of each node in the last test run. */
  outputs: Record<string, unknown>;
  envNames: string[];
  pathParams: string[];
  /** request object seen by the trigger in the last test run. */
  request?: unknown;
  /** Node types by id, for completion details. */
  nodeTypes: Record<string, string>;
  /** The type of each node's output by id (the trigger's is the request), from POST /analyze. */
  types?: Record<string, ValueType>;
  triggerId?: string;
  /** The node whose expressions are edited, and the nodes that can run before it. */
  editing?: { id: string; upstream: ReadonlySet<string> };
  /** What previews evaluate against: the last test run, or null when there is none. */
  run?: { traceId: string; env: Record<string, string> } | null;
}

export const exprContext: { current: ExprCompletionContext } = {
  current: { nodeIds: [], outputs: {}, envNames: [], pathParams: [], nodeTypes: {} },
};

const contextListeners = new Set<() => void>();
let contextVersion = 0;

/** Sets what completion and previews know; editors showing previews are told. */
export function setExprContext(c: ExprCompletionContext) {
  exprContext.current = c;
  contextVersion++;
  contextListeners.forEach((f) => f());
}

/** For useSyncExternalStore: a counter that moves with every setExprContext. */
export const exprContextStore = {
  subscribe(f: () => void) {
    contextListeners.add(f);
    return () => contextListeners.delete(f);
  },
  version: () => contextVersion,
};

/** The type at steps below t: map fields by name, list items by index. */
export function typeAt(t: ValueType | undefined, steps: string[]): ValueType | undefined {
  let cur = t;
  for (const s of steps) {
    if (!cur) return undefined;
    if (cur.kind === 'map') cur = cur.fields?.[s];
    else if (cur.kind === 'list' && /^\d+$/.test(s)) cur = cur.elem;
    else return undefined;
  }
  return cur;
}

/** How a type reads in a completion's detail: "number", "list of map", ... */
export function typeLabel(t: ValueType | undefined): string {
  if (!t) return 'any';
  if (t.kind === 'list') return `list of ${typeLabel(t.elem)}`;
  if (t.kind === 'map' && t.fields && Object.keys(t.fields).length) return `{${Object.keys(t.fields).slice(0, 4).join(', ')}${Object.keys(t.fields).length > 4 ? ', …' : ''}}`;
  return t.kind;
}

/** The fields of a map type, typed, first in completion. */
function fieldsOfType(t: ValueType | undefined, sample: unknown): Completion[] {
  if (!t || t.kind !== 'map' || !t.fields) return [];
  return Object.entries(t.fields).map(([k, ft]) => {
    const seen = sample && typeof sample === 'object' && !Array.isArray(sample) ? (sample as Record<string, unknown>)[k] : undefined;
    const where = ft.from === 'sample' || t.from === 'sample' ? 'seen in the last test run' : t.from === 'schema' ? 'from the schema' : '';
    return member(k, { detail: typeLabel(ft), info: [where, seen !== undefined ? 'last run: ' + preview(seen) : ''].filter(Boolean).join(' · ') || undefined, boost: 5 });
  });
}

/** The fields a variable always has, e.g. request.method. */
function fieldsOf(root: string): Completion[] {
  const v = doc.variables.find((x) => x.name === root);
  return (v?.fields ?? []).map((f) => ({ label: f.name, type: 'property', detail: f.type, info: f.doc }));
}

const COMMON_HEADERS = ['content-type', 'authorization', 'accept', 'user-agent', 'x-request-id', 'traceparent'];

function keysOf(v: unknown): Completion[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>).map(([k, x]) =>
    member(k, { detail: Array.isArray(x) ? 'array' : x === null ? 'nil' : typeof x === 'object' ? 'map' : typeof x, info: preview(x) }),
  );
}

/** A member completion; names that are not identifiers become `["name"]`. */
function member(name: string, extra: Partial<Completion> = {}): Completion {
  const c: Completion = { label: name, type: 'property', ...extra };
  if (!validIdent.test(name)) {
    c.apply = (view, _c, from, to) => {
      const at = view.state.sliceDoc(from - 1, from) === '.' ? from - 1 : from;
      const insert = `[${JSON.stringify(name)}]`;
      view.dispatch({ changes: { from: at, to, insert }, selection: { anchor: at + insert.length } });
    };
  }
  return c;
}

function preview(x: unknown): string {
  try {
    const s = JSON.stringify(x);
    return s && s.length > 120 ? s.slice(0, 117) + '...' : (s ?? String(x));
  } catch {
    return String(x);
  }
}

function descend(v: unknown, steps: string[]): unknown {
  let cur = v;
  for (const s of steps) {
    if (cur && typeof cur === 'object' && !Array.isArray(cur)) cur = (cur as Record<string, unknown>)[s];
    else if (Array.isArray(cur) && /^\d+$/.test(s)) cur = cur[Number(s)];
    else return undefined;
  }
  return cur;
}

const validIdent = /^[A-Za-z_][\w]*$/;

export function completeExpr(ctx: CompletionContext): CompletionResult | null {
  const m = ctx.matchBefore(/[A-Za-z_$][\w$]*(\??\.[A-Za-z_$]?[\w$]*)*\.?$|\.$/);
  if (!m) {
    if (!ctx.explicit) return null;
    return { from: ctx.pos, options: topLevel() };
  }
  const text = m.text;
  // A member access right after an unrelated value ("x).foo") is not ours.
  const before = ctx.state.sliceDoc(Math.max(0, m.from - 1), m.from);
  if (text.startsWith('.') || before === '.' || before === ')' || before === ']') return null;
  const parts = text.replace(/\?\./g, '.').split('.');
  const partial = parts.pop()!;
  const from = m.to - partial.length;
  if (parts.length === 0) {
    if (!partial && !ctx.explicit) return null;
    return { from, options: topLevel(), validFor: /^[\w$]*$/ };
  }
  const c = exprContext.current;
  const [root, ...rest] = parts;
  let options: Completion[] = [];
  const reqType = c.triggerId ? c.types?.[c.triggerId] : undefined;
  if (root === 'request') {
    if (rest.length === 0) options = fieldsOf('request');
    else if (rest[0] === 'params' && rest.length === 1) {
      options = c.pathParams.map((p) => ({ label: p, type: 'property', detail: 'path parameter' }));
      options = merge(options, keysOf(descend(c.request, ['params'])));
    } else if (rest[0] === 'headers' && rest.length === 1) {
      options = merge(keysOf(descend(c.request, ['headers'])), COMMON_HEADERS.map((h) => member(h, { detail: 'header' })));
    } else options = merge(fieldsOfType(typeAt(reqType, rest), descend(c.request, rest)), keysOf(descend(c.request, rest)));
  } else if (root === 'nodes') {
    if (rest.length === 0) options = nodeRefs(c, (id) => id);
    else {
      const [id, ...path] = rest;
      options = merge(fieldsOfType(typeAt(c.types?.[id], path), descend(c.outputs[id], path)), keysOf(descend(c.outputs[id], path)));
    }
  } else if (root === 'env' && rest.length === 0) {
    options = c.envNames.map((n) => ({ label: n, type: 'constant', detail: 'env' }));
  } else if (rest.length === 0) {
    options = fieldsOf(root);
  }
  if (!options.length) return null;
  return { from, options, validFor: /^[\w$-]*$/ };
}

function merge(a: Completion[], b: Completion[]): Completion[] {
  const seen = new Set(a.map((x) => x.label));
  return [...a, ...b.filter((x) => !seen.has(x.label))];
}

/**
 * The nodes an expression can read: those that run before the node being
 * edited first; never that node itself (its own output is not there yet)
 * nor the trigger (that is request).
 */
function nodeRefs(c: ExprCompletionContext, label: (id: string) => string): Completion[] {
  const up = c.editing?.upstream;
  return c.nodeIds
    .filter((id) => id !== c.triggerId && id !== c.editing?.id)
    .map((id) => {
      const before = !up || up.has(id);
      return {
        label: label(id),
        type: 'variable',
        detail: `${c.nodeTypes[id] ?? 'node'} → ${typeLabel(c.types?.[id])}`,
        info: before ? (id in c.outputs ? 'last run: ' + preview(c.outputs[id]) : 'output of this node') : 'does not run before this node: nil here',
        boost: before ? 5 : -5,
      };
    });
}

function topLevel(): Completion[] {
  const c = exprContext.current;
  return [
    ...doc.variables.map((v, i) => ({ label: v.name, type: 'variable', detail: v.type, info: v.doc, boost: 10 - i })),
    // The flow's nodes by their full reference: typing "set" finds nodes.set_1.
    ...nodeRefs(c, (id) => `nodes.${id}`),
    ...doc.functions.map((f) => ({ label: f.name, type: 'function', detail: f.signature, info: f.doc, apply: f.name + '(' })),
    ...KEYWORDS.map((k) => ({ label: k, type: 'keyword' })),
    ...ATOMS.map((k) => ({ label: k, type: 'constant' })),
  ];
}

export function exprExtensions(): Extension[] {
  return [exprLanguage, autocompletion({ override: [completeExpr], activateOnTyping: true, icons: true })];
}
