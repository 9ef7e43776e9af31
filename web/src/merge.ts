// Three-way merge of flow documents, for a save that met someone else's:
// `base` is the revision both started from, `mine` the editor's document,
// `theirs` what was saved meanwhile. Changes to different nodes, edges or
// config fields combine by themselves; both changing the same field
// differently, or one deleting a node the other changed, is a conflict,
// decided per node (or per flow-level field) with resolve().
import { edgeKey, renameNode, same } from './flow';
import type { Config, FlowDoc, FlowEdge, FlowNode } from './types';

export type Side = 'mine' | 'theirs';

/** A node both changed in ways that do not combine. */
export interface NodeConflict {
  kind: 'node';
  /** `node:<id>`, the key of its choice. */
  key: string;
  id: string;
  /** The node in each document (absent: not there). */
  base?: FlowNode;
  mine?: FlowNode;
  theirs?: FlowNode;
  /** What collides: `type`, `config.<key>`, or `deleted` (one side deleted it, the other changed it). */
  fields: string[];
  /** The node each choice gives (undefined: deleted). Changes only one side made are in both. */
  take: Record<Side, FlowNode | undefined>;
}

export type FlowField = 'name' | 'description' | 'version';

/** A flow-level field both changed differently. */
export interface FieldConflict {
  kind: 'flow';
  /** `flow:<field>`, the key of its choice. */
  key: string;
  field: FlowField;
  base: unknown;
  mine: unknown;
  theirs: unknown;
}

export type Conflict = NodeConflict | FieldConflict;

export interface MergeResult {
  /** The merge with every conflict decided for mine: resolve(result, {}). */
  merged: FlowDoc;
  conflicts: Conflict[];
  /** Every node and edge a resolution may keep, in order; resolve() starts from it. */
  draft: FlowDoc;
}


/** The three-way choice for one value: what both agree on, or the side that changed it; null when both changed it differently. */
function pick<T>(base: T, mine: T, theirs: T): { value: T } | null {
  if (same(mine, theirs)) return { value: mine };
  if (same(mine, base)) return { value: theirs };
  if (same(theirs, base)) return { value: mine };
  return null;
}

/** Same type and config: a move alone is not a change worth a conflict. */
function sameContent(a: FlowNode, b: FlowNode): boolean {
  return a.type === b.type && same(a.config ?? {}, b.config ?? {});
}

function node(id: string, type: string, config: Config, position: FlowNode['position']): FlowNode {
  const n: FlowNode = { id, type };
  if (Object.keys(config).length) n.config = config;
  if (position) n.position = position;
  return n;
}

/** Which fields of two versions of a node differ (`type`, `config.<key>`); positions are left out. */
export function nodeDiff(a: FlowNode | undefined, b: FlowNode | undefined): string[] {
  if (!a || !b) return a === b ? [] : ['deleted'];
  const out: string[] = [];
  if (a.type !== b.type) out.push('type');
  const ac = a.config ?? {};
  const bc = b.config ?? {};
  for (const k of new Set([...Object.keys(ac), ...Object.keys(bc)])) if (!same(ac[k], bc[k])) out.push(`config.${k}`);
  return out;
}

function mergeNode(id: string, b: FlowNode | undefined, m: FlowNode | undefined, t: FlowNode | undefined): { node?: FlowNode; conflict?: NodeConflict } {
  const key = `node:${id}`;
  if (!m && !t) return {};
  if (!m || !t) {
    const kept = (m ?? t)!;
    // Added on one side only.
    if (!b) return { node: kept };
    // Deleted on one side: it stays deleted unless the other side changed it.
    if (sameContent(b, kept)) return {};
    const take = m ? { mine: m, theirs: undefined } : { mine: undefined, theirs: t };
    return { conflict: { kind: 'node', key, id, base: b, mine: m, theirs: t, fields: ['deleted'], take } };
  }
  if (b && same(m, b)) return { node: t };
  if (b && same(t, b)) return { node: m };
  if (same(m, t)) return { node: m };

  // Positions never conflict: mine if I moved it, else theirs.
  const position = b && same(m.position, b.position) ? (t.position ?? m.position) : m.position;
  const fields: string[] = [];
  // A config is written for its node's type: a new type on one side and a
  // config change on the other do not combine either.
  const retyped = (x: FlowNode, y: FlowNode) => !!b && x.type !== b.type && !same(y.config ?? {}, b.config ?? {});
  const type = retyped(m, t) || retyped(t, m) ? null : pick(b?.type, m.type, t.type);
  if (!type) fields.push('type');
  const bc = b?.config ?? {};
  const mc = m.config ?? {};
  const tc = t.config ?? {};
  const cm: Config = {};
  const ct: Config = {};
  for (const k of new Set([...Object.keys(mc), ...Object.keys(tc), ...Object.keys(bc)])) {
    const p = pick(bc[k], mc[k], tc[k]);
    if (p) {
      if (p.value !== undefined) cm[k] = ct[k] = p.value;
      continue;
    }
    fields.push(`config.${k}`);
    if (mc[k] !== undefined) cm[k] = mc[k];
    if (tc[k] !== undefined) ct[k] = tc[k];
  }
  if (!fields.length) return { node: node(id, type!.value as string, cm, position) };
  // Another type means another config altogether: each choice takes its side's node whole.
  const take = type
    ? { mine: node(id, type.value as string, cm, position), theirs: node(id, type.value as string, ct, position) }
    : { mine: { ...m, position }, theirs: { ...t, position } };
  if (!position) {
    delete take.mine.position;
    delete take.theirs.position;
  }
  return { conflict: { kind: 'node', key, id, base: b, mine: m, theirs: t, fields, take } };
}

/** Mine's node order, with theirs' other nodes after the node they follow in theirs. */
function nodeOrder(mine: FlowNode[], theirs: FlowNode[]): string[] {
  const order = mine.map((n) => n.id);
  const at = new Set(order);
  let anchor = -1;
  for (const n of theirs) {
    const i = order.indexOf(n.id);
    if (at.has(n.id)) {
      anchor = i;
      continue;
    }
    order.splice(++anchor, 0, n.id);
    at.add(n.id);
  }
  return order;
}

function byId(nodes: FlowNode[]): Map<string, FlowNode> {
  return new Map(nodes.map((n) => [n.id, n]));
}

function normal(doc: FlowDoc): FlowDoc {
  return { ...doc, nodes: doc.nodes ?? [], edges: doc.edges ?? [] };
}

/**
 * The nodes `side` renamed since `base` (old id → new), among those the other
 * side still has. The editor's rename keeps the type and the position or the
 * config (with its `nodes.<id>` references); without this a rename would
 * read as a deletion and an addition, and the other side's edit of the node
 * as a conflict.
 */
export function renames(base: FlowDoc, side: FlowDoc, other: FlowDoc): Map<string, string> {
  const has = (d: FlowDoc) => new Set(d.nodes.map((n) => n.id));
  const inBase = has(base);
  const inSide = has(side);
  const inOther = has(other);
  const fresh = side.nodes.filter((n) => !inBase.has(n.id) && !inOther.has(n.id));
  const out = new Map<string, string>();
  for (const old of base.nodes) {
    if (inSide.has(old.id) || !inOther.has(old.id)) continue;
    const i = fresh.findIndex((n) => {
      if (n.type !== old.type) return false;
      if (n.position && old.position && same(n.position, old.position)) return true;
      const renamed = renameNode({ version: 1, name: '', nodes: [old], edges: [] }, old.id, n.id).nodes[0];
      return same(renamed.config ?? {}, n.config ?? {});
    });
    if (i < 0) continue;
    out.set(old.id, fresh[i].id);
    fresh.splice(i, 1);
  }
  return out;
}

function renameAll(doc: FlowDoc, ids: Map<string, string>): FlowDoc {
  for (const [from, to] of ids) doc = renameNode(doc, from, to);
  return doc;
}

/** Merges what `mine` and `theirs` each changed since `base`. */
export function merge3(base: FlowDoc, mine: FlowDoc, theirs: FlowDoc): MergeResult {
  base = normal(base);
  mine = normal(mine);
  theirs = normal(theirs);
  // Nodes renamed on one side are renamed in the others first, so that changes
  // made under the old id land on the node under its new one.
  const mineRenamed = renames(base, mine, theirs);
  const theirsRenamed = renames(base, theirs, mine);
  base = renameAll(renameAll(base, mineRenamed), theirsRenamed);
  theirs = renameAll(theirs, mineRenamed);
  mine = renameAll(mine, theirsRenamed);
  const conflicts: Conflict[] = [];

  // Flow-level fields. An empty description is no description.
  const draft: FlowDoc = { ...mine, nodes: [], edges: [] };
  const flowFields: [FlowField, (d: FlowDoc) => unknown][] = [
    ['name', (d) => d.name],
    ['description', (d) => d.description || undefined],
    ['version', (d) => d.version],
  ];
  for (const [field, get] of flowFields) {
    const p = pick(get(base), get(mine), get(theirs));
    if (p) setField(draft, field, p.value);
    else conflicts.push({ kind: 'flow', key: `flow:${field}`, field, base: get(base), mine: get(mine), theirs: get(theirs) });
  }

  // Nodes by id.
  const b = byId(base.nodes);
  const m = byId(mine.nodes);
  const t = byId(theirs.nodes);
  // Nodes one side deleted while the other changed them: that side's removal
  // of their edges is part of the deletion, undone if the node is kept.
  const deletedBy: Record<Side, Set<string>> = { mine: new Set(), theirs: new Set() };
  for (const id of nodeOrder(mine.nodes, theirs.nodes)) {
    const r = mergeNode(id, b.get(id), m.get(id), t.get(id));
    if (r.node) draft.nodes.push(r.node);
    if (r.conflict) {
      conflicts.push(r.conflict);
      draft.nodes.push((r.conflict.take.mine ?? r.conflict.take.theirs)!);
      if (!r.conflict.take.mine) deletedBy.mine.add(id);
      if (!r.conflict.take.theirs) deletedBy.theirs.add(id);
    }
  }

  // Edges as a set: added by either side, or removed by either side.
  const keys = (edges: FlowEdge[]) => new Set(edges.map(edgeKey));
  const inBase = keys(base.edges);
  const inMine = keys(mine.edges);
  const inTheirs = keys(theirs.edges);
  const touches = (e: FlowEdge, ids: Set<string>) => ids.has(e.from) || ids.has(e.to);
  const seen = new Set<string>();
  for (const e of [...mine.edges, ...theirs.edges]) {
    const k = edgeKey(e);
    if (seen.has(k)) continue;
    seen.add(k);
    const keep = !inBase.has(k) || ((inMine.has(k) || touches(e, deletedBy.mine)) && (inTheirs.has(k) || touches(e, deletedBy.theirs)));
    if (keep) draft.edges.push(e);
  }

  const result: MergeResult = { merged: draft, conflicts, draft };
  result.merged = resolve(result, {});
  return result;
}

function setField(doc: FlowDoc, field: FlowField, value: unknown) {
  if (field === 'description') {
    if (value) doc.description = value as string;
    else delete doc.description;
  } else if (field === 'name') doc.name = value as string;
  else doc.version = value as number;
}

/**
 * The merge with each conflict decided: choices by conflict key, mine where
 * none is given. Edges to nodes that are not kept go with them.
 */
export function resolve(result: MergeResult, choices: Record<string, Side>): FlowDoc {
  const doc: FlowDoc = { ...result.draft, nodes: [], edges: [] };
  const nodeConflicts = new Map<string, NodeConflict>();
  for (const c of result.conflicts) {
    if (c.kind === 'node') nodeConflicts.set(c.id, c);
    else setField(doc, c.field, c[choices[c.key] ?? 'mine']);
  }
  for (const n of result.draft.nodes) {
    const c = nodeConflicts.get(n.id);
    const chosen = c ? c.take[choices[c.key] ?? 'mine'] : n;
    if (chosen) doc.nodes.push(chosen);
  }
  const ids = new Set(doc.nodes.map((n) => n.id));
  doc.edges = result.draft.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  return doc;
}
