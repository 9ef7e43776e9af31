// expr-lang (https://expr-lang.org) for CodeMirror: highlighting and the
// completion of the flow environment (request, nodes, env, trace) and of
// expr's built-in functions.
import { StreamLanguage, type StringStream } from '@codemirror/language';
import { autocompletion, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import type { Extension } from '@codemirror/state';

export const BUILTINS: [name: string, signature: string, info: string][] = [
  ['len', 'len(v)', 'length of a string, array or map'],
  ['sum', 'sum(array[, predicate])', 'sum of the numbers, or of the predicate over the items: sum(xs, .qty * .price)'],
  ['map', 'map(array, predicate)', 'each item transformed: map(xs, .sku); maps need parentheses: map(xs, ({"a": .a}))'],
  ['filter', 'filter(array, predicate)', 'the items for which the predicate is true: filter(xs, .price > 10)'],
  ['all', 'all(array, predicate)', 'true if the predicate is true for every item'],
  ['any', 'any(array, predicate)', 'true if the predicate is true for some item'],
  ['one', 'one(array, predicate)', 'true if the predicate is true for exactly one item'],
  ['none', 'none(array, predicate)', 'true if the predicate is true for no item'],
  ['count', 'count(array[, predicate])', 'how many items satisfy the predicate'],
  ['find', 'find(array, predicate)', 'the first item satisfying the predicate'],
  ['findIndex', 'findIndex(array, predicate)', 'index of the first item satisfying the predicate'],
  ['findLast', 'findLast(array, predicate)', 'the last item satisfying the predicate'],
  ['findLastIndex', 'findLastIndex(array, predicate)', 'index of the last item satisfying the predicate'],
  ['groupBy', 'groupBy(array, predicate)', 'items grouped by the predicate\'s value'],
  ['sortBy', 'sortBy(array, predicate[, "asc"|"desc"])', 'items sorted by the predicate\'s value'],
  ['sort', 'sort(array[, "asc"|"desc"])', 'sorted array'],
  ['reduce', 'reduce(array, predicate[, initial])', 'fold: reduce(xs, #acc + #, 0)'],
  ['upper', 'upper(s)', 'upper case'],
  ['lower', 'lower(s)', 'lower case'],
  ['trim', 'trim(s[, chars])', 'whitespace (or chars) removed at both ends'],
  ['trimPrefix', 'trimPrefix(s, prefix)', 's without the prefix'],
  ['trimSuffix', 'trimSuffix(s, suffix)', 's without the suffix'],
  ['split', 'split(s, sep[, n])', 'substrings between separators'],
  ['splitAfter', 'splitAfter(s, sep[, n])', 'substrings after each separator'],
  ['replace', 'replace(s, old, new)', 'every old replaced by new'],
  ['repeat', 'repeat(s, n)', 's repeated n times'],
  ['indexOf', 'indexOf(s, sub)', 'index of the first sub, -1 if none'],
  ['lastIndexOf', 'lastIndexOf(s, sub)', 'index of the last sub, -1 if none'],
  ['hasPrefix', 'hasPrefix(s, prefix)', 'true if s starts with prefix'],
  ['hasSuffix', 'hasSuffix(s, suffix)', 'true if s ends with suffix'],
  ['int', 'int(v)', 'integer from a number or string'],
  ['float', 'float(v)', 'float from a number or string'],
  ['string', 'string(v)', 'string form of v'],
  ['abs', 'abs(n)', 'absolute value'],
  ['ceil', 'ceil(n)', 'smallest integer >= n'],
  ['floor', 'floor(n)', 'largest integer <= n'],
  ['round', 'round(n)', 'nearest integer'],
  ['max', 'max(a, b...)', 'largest argument or item'],
  ['min', 'min(a, b...)', 'smallest argument or item'],
  ['mean', 'mean(array)', 'average'],
  ['median', 'median(array)', 'median'],
  ['now', 'now()', 'the current time'],
  ['duration', 'duration(s)', 'a duration from "1h30m"'],
  ['date', 'date(s[, layout[, tz]])', 'a time parsed from a string'],
  ['timezone', 'timezone(name)', 'a time zone'],
  ['toJSON', 'toJSON(v)', 'JSON text of v'],
  ['fromJSON', 'fromJSON(s)', 'value parsed from JSON text'],
  ['toBase64', 'toBase64(s)', 'base64 encoding'],
  ['fromBase64', 'fromBase64(s)', 'base64 decoding'],
  ['first', 'first(array)', 'first item, nil if empty'],
  ['last', 'last(array)', 'last item, nil if empty'],
  ['get', 'get(v, key)', 'v[key], nil if missing'],
  ['take', 'take(array, n)', 'the first n items'],
  ['keys', 'keys(map)', 'the keys of a map'],
  ['values', 'values(map)', 'the values of a map'],
  ['toPairs', 'toPairs(map)', '[[key, value], ...]'],
  ['fromPairs', 'fromPairs(array)', 'map from [[key, value], ...]'],
  ['type', 'type(v)', 'the type name of v'],
  ['concat', 'concat(a, b...)', 'arrays joined'],
  ['flatten', 'flatten(array)', 'nested arrays flattened'],
  ['uniq', 'uniq(array)', 'duplicates removed'],
  ['join', 'join(array[, sep])', 'strings joined'],
  ['reverse', 'reverse(array)', 'items in reverse order'],
];

const KEYWORDS = ['and', 'or', 'not', 'in', 'matches', 'contains', 'startsWith', 'endsWith', 'let', 'if', 'else'];
const ATOMS = ['true', 'false', 'nil'];
const ROOTS = ['request', 'nodes', 'env', 'trace'];
const builtinNames = new Set(BUILTINS.map((b) => b[0]));

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
      if (ROOTS.includes(w)) return 'variableName.special';
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
  /** Types of the nodes by id, for completion details. */
  nodeTypes: Record<string, string>;
}

export const exprContext: { current: ExprCompletionContext } = {
  current: { nodeIds: [], outputs: {}, envNames: [], pathParams: [], nodeTypes: {} },
};

const REQUEST_FIELDS: Completion[] = [
  { label: 'method', type: 'property', detail: 'string', info: '"GET", "POST", ...' },
  { label: 'path', type: 'property', detail: 'string', info: 'the path as received, without query string' },
  { label: 'params', type: 'property', detail: 'map', info: 'path parameters by name' },
  { label: 'query', type: 'property', detail: 'map', info: 'query parameters, first value of each' },
  { label: 'headers', type: 'property', detail: 'map', info: 'request headers, lower-case names' },
  { label: 'body', type: 'property', detail: 'any', info: 'the JSON body (or the text body); nil when empty' },
];

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
  if (root === 'request') {
    if (rest.length === 0) options = REQUEST_FIELDS;
    else if (rest[0] === 'params' && rest.length === 1) {
      options = c.pathParams.map((p) => ({ label: p, type: 'property', detail: 'path parameter' }));
      options = merge(options, keysOf(descend(c.request, ['params'])));
    } else if (rest[0] === 'headers' && rest.length === 1) {
      options = merge(keysOf(descend(c.request, ['headers'])), COMMON_HEADERS.map((h) => member(h, { detail: 'header' })));
    } else options = keysOf(descend(c.request, rest));
  } else if (root === 'nodes') {
    if (rest.length === 0)
      options = c.nodeIds.map((id) => ({ label: id, type: 'variable', detail: c.nodeTypes[id] ?? 'node', info: id in c.outputs ? 'last run: ' + preview(c.outputs[id]) : 'output of this node' }));
    else options = keysOf(descend(c.outputs[rest[0]], rest.slice(1)));
  } else if (root === 'env' && rest.length === 0) {
    options = c.envNames.map((n) => ({ label: n, type: 'constant', detail: 'env' }));
  } else if (root === 'trace' && rest.length === 0) {
    options = [{ label: 'id', type: 'property', detail: 'string', info: "this request's trace id, 32 hex digits" }];
  }
  if (!options.length) return null;
  return { from, options, validFor: /^[\w$-]*$/ };
}

function merge(a: Completion[], b: Completion[]): Completion[] {
  const seen = new Set(a.map((x) => x.label));
  return [...a, ...b.filter((x) => !seen.has(x.label))];
}

function topLevel(): Completion[] {
  return [
    { label: 'request', type: 'variable', detail: 'the HTTP request', boost: 10 },
    { label: 'nodes', type: 'variable', detail: 'outputs of the nodes that ran', boost: 10 },
    { label: 'env', type: 'variable', detail: 'variables of the deployment', boost: 9 },
    { label: 'trace', type: 'variable', detail: 'trace.id', boost: 8 },
    ...BUILTINS.map(([name, sig, info]) => ({ label: name, type: 'function', detail: sig, info, apply: name + '(' })),
    ...KEYWORDS.map((k) => ({ label: k, type: 'keyword' })),
    ...ATOMS.map((k) => ({ label: k, type: 'constant' })),
  ];
}

export function exprExtensions(): Extension[] {
  return [exprLanguage, autocompletion({ override: [completeExpr], activateOnTyping: true, icons: true })];
}
