// Pure helpers over the flow document: ports, ids, config defaults, problem
// paths. Everything here works on plain documents as in FLOW-FORMAT.md.
import type { Config, Field, FlowDoc, FlowEdge, FlowNode, Problem, Spec } from './types';

export const ID_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const NAME_RE = /^[a-z0-9-]{1,64}$/;
export const TRIGGER = 'trigger.http';
export const RESPONSE = 'response';

export function portOf(e: FlowEdge): string {
  return e.port || 'out';
}

export function edgeKey(e: FlowEdge): string {
  return `${e.from}:${portOf(e)}->${e.to}`;
}

/** The ports a node can leave through, in the order they are drawn. */
export function portsOf(node: FlowNode, spec: Spec | undefined): string[] {
  if (!spec) return ['out'];
  const fixed = spec.ports ?? [];
  const dyn = spec.dynamic_ports;
  if (!dyn) return fixed;
  // One port per item of the list field, named by the item's field; an
  // unnamed or repeated one gets no second handle (the validator says why).
  const items = node.config?.[dyn.field];
  const out: string[] = [];
  if (Array.isArray(items)) {
    for (const it of items) {
      const p = it && typeof it === 'object' ? (it as Record<string, unknown>)[dyn.item] : undefined;
      if (typeof p === 'string' && p !== '' && !out.includes(p)) out.push(p);
    }
  }
  for (const p of fixed) if (!out.includes(p)) out.push(p);
  return out;
}

export function hasInput(node: FlowNode): boolean {
  return node.type !== TRIGGER;
}

/**
 * The port a node added after `from` is wired from: the first of its ports
 * (not error) with no edge yet, else its first port; none for a response.
 */
export function nextPort(doc: FlowDoc, from: FlowNode, spec: Spec | undefined): string | undefined {
  const ports = portsOf(from, spec).filter((p) => p !== 'error');
  if (!ports.length) return undefined;
  const used = new Set(doc.edges.filter((e) => e.from === from.id).map(portOf));
  return ports.find((p) => !used.has(p)) ?? ports[0];
}

/** A fresh node id from the type: `set_1`, `set_2`, ... */
export function newNodeId(type: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let base = type.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) base = '_' + base;
  base = base.slice(0, 56);
  for (let i = 1; ; i++) {
    const id = `${base}_${i}`;
    if (!used.has(id)) return id;
  }
}

/** The value a new field gets, or undefined to leave it out of the config. */
export function initialValue(f: Field): unknown {
  if (f.default !== undefined && f.default !== null) return structuredClone(f.default);
  if (!f.required) return undefined;
  switch (f.kind) {
    case 'list':
    case 'expr_list':
      return [];
    case 'enum':
      return f.options?.[0] ?? '';
    case 'int':
    case 'int_or_expr':
      return 0;
    case 'schema':
      return { type: 'object' };
    default:
      return '';
  }
}

/** A new node's config: required fields only (optional ones keep their defaults implicitly). */
export function initialConfig(spec: Spec | undefined): Config {
  const c: Config = {};
  for (const f of spec?.fields ?? []) {
    if (!f.required) continue;
    const v = initialValue(f);
    if (v !== undefined) c[f.name] = v;
  }
  return c;
}

export function newItem(fields: Field[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    const v = f.default !== undefined && f.default !== null ? structuredClone(f.default) : f.kind === 'list' || f.kind === 'expr_list' ? [] : f.kind === 'int' ? 0 : f.kind === 'enum' ? (f.options?.[0] ?? '') : '';
    o[f.name] = v;
  }
  return o;
}

/**
 * A problem's field as a list of steps: `fields[0].value`, `fields.0.value`
 * and `/fields/0/value` all give ["fields", 0, "value"].
 */
export function parseFieldPath(field: string): (string | number)[] {
  if (!field) return [];
  const s = field.startsWith('/') ? field.slice(1).replace(/\//g, '.') : field;
  const out: (string | number)[] = [];
  for (const part of s.split('.')) {
    const re = /([^[\]]+)|\[(\d+)\]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(part))) {
      if (m[2] !== undefined) out.push(Number(m[2]));
      else if (/^\d+$/.test(m[1])) out.push(Number(m[1]));
      else out.push(m[1]);
    }
  }
  return out;
}

export function formatFieldPath(steps: (string | number)[]): string {
  let s = '';
  for (const st of steps) {
    if (typeof st === 'number') s += `[${st}]`;
    else s += s ? `.${st}` : st;
  }
  return s;
}

export function normalizeFieldPath(field: string): string {
  return formatFieldPath(parseFieldPath(field));
}

export function problemsByNode(problems: Problem[]): Map<string, Problem[]> {
  const m = new Map<string, Problem[]>();
  for (const p of problems) {
    if (!p.node) continue;
    const list = m.get(p.node) ?? [];
    list.push(p);
    m.set(p.node, list);
  }
  return m;
}

/** Renames node `from` to `to`: edges and `nodes.<from>` references in string config values follow. */
export function renameNode(doc: FlowDoc, from: string, to: string): FlowDoc {
  const re = new RegExp(`\\bnodes\\.${from}\\b`, 'g');
  const rewrite = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(re, `nodes.${to}`);
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = rewrite(x);
      return o;
    }
    return v;
  };
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const node = n.id === from ? { ...n, id: to } : n;
      if (!node.config || !JSON.stringify(node.config).includes(`nodes.${from}`)) return node;
      return { ...node, config: rewrite(node.config) as Config };
    }),
    edges: doc.edges.map((e) =>
      e.from === from || e.to === from ? { ...e, from: e.from === from ? to : e.from, to: e.to === from ? to : e.to } : e,
    ),
  };
}

export function triggerOf(doc: FlowDoc): FlowNode | undefined {
  return doc.nodes.find((n) => n.type === TRIGGER);
}

export function triggerRoute(doc: FlowDoc): { method: string; path: string } {
  const t = triggerOf(doc);
  const c = t?.config ?? {};
  return { method: typeof c.method === 'string' ? c.method : 'GET', path: typeof c.path === 'string' ? c.path : '/' };
}

/** The document as FLOW-FORMAT.md writes it: known keys only, in their usual order. */
export function cleanDoc(doc: FlowDoc): FlowDoc {
  const out: FlowDoc = { version: doc.version, name: doc.name } as FlowDoc;
  if (doc.description) out.description = doc.description;
  out.nodes = doc.nodes.map((n) => {
    const node: FlowNode = { id: n.id, type: n.type };
    if (n.config && Object.keys(n.config).length) node.config = n.config;
    if (n.position) node.position = { x: n.position.x, y: n.position.y };
    return node;
  });
  out.edges = doc.edges.map((e) => {
    const edge: FlowEdge = { from: e.from, to: e.to };
    if (e.port && e.port !== 'out') edge.port = e.port;
    return edge;
  });
  return out;
}

export function emptyFlow(name: string, method: string, path: string, description = ''): FlowDoc {
  const doc: FlowDoc = {
    version: 1,
    name,
    nodes: [{ id: 'start', type: TRIGGER, config: { method, path }, position: { x: 60, y: 160 } }],
    edges: [],
  };
  if (description) doc.description = description;
  return doc;
}

export function pathParams(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));
}

export function download(filename: string, text: string, type = 'application/json') {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function exportText(doc: FlowDoc): string {
  return JSON.stringify(cleanDoc(doc), null, 2) + '\n';
}

/** Deep equality of JSON values; key order does not matter. */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => same(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  // An absent key and an undefined one are the same (JSON drops both).
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!same(ao[k], bo[k])) return false;
  return true;
}
