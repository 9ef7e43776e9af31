import { describe, expect, it } from 'vitest';
import { merge3, nodeDiff, renames, resolve, type NodeConflict } from './merge';
import { same } from './flow';
import { renameNode } from './flow';
import { copyOf, copyPath, pathProblem } from './copy';
import type { FlowDoc, FlowNode } from './types';

const base: FlowDoc = {
  version: 1,
  name: 'orders',
  description: 'the orders',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/orders' }, position: { x: 0, y: 0 } },
    { id: 'calc', type: 'set', config: { fields: [{ name: 'n', value: '1' }] }, position: { x: 200, y: 0 } },
    { id: 'done', type: 'response', config: { status: 200, body: 'nodes.calc' }, position: { x: 400, y: 0 } },
  ],
  edges: [
    { from: 'start', to: 'calc' },
    { from: 'calc', to: 'done' },
  ],
};

/** A copy of base changed by fn (on a deep copy, so base stays as it is). */
function edit(fn: (d: FlowDoc) => void, from: FlowDoc = base): FlowDoc {
  const d = structuredClone(from);
  fn(d);
  return d;
}
const nodeOf = (d: FlowDoc, id: string) => d.nodes.find((n) => n.id === id);
const cfg = (d: FlowDoc, id: string) => nodeOf(d, id)?.config ?? {};
const ids = (d: FlowDoc) => d.nodes.map((n) => n.id);

describe('merge3 without conflicts', () => {
  it('gives the other side when only one side changed anything', () => {
    const mine = edit((d) => (cfg(d, 'done').status = 201));
    expect(merge3(base, mine, base)).toMatchObject({ merged: mine, conflicts: [] });
    expect(merge3(base, base, mine)).toMatchObject({ merged: mine, conflicts: [] });
  });

  it('combines edits of different nodes', () => {
    const mine = edit((d) => (cfg(d, 'done').body = '"mine"'));
    const theirs = edit((d) => (cfg(d, 'calc').fields = [{ name: 'n', value: '2' }]));
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(cfg(merged, 'done').body).toBe('"mine"');
    expect(cfg(merged, 'calc').fields).toEqual([{ name: 'n', value: '2' }]);
    expect(merged.edges).toEqual(base.edges);
  });

  it('combines edits of different config fields of the same node', () => {
    const mine = edit((d) => (cfg(d, 'done').body = '"mine"'));
    const theirs = edit((d) => {
      cfg(d, 'done').status = 404;
      cfg(d, 'done').headers = [{ name: 'X', value: '"1"' }];
    });
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(cfg(merged, 'done')).toEqual({ status: 404, body: '"mine"', headers: [{ name: 'X', value: '"1"' }] });
  });

  it('takes a config field one side removed', () => {
    const mine = edit((d) => delete cfg(d, 'done').status);
    const theirs = edit((d) => (cfg(d, 'done').body = '"theirs"'));
    expect(cfg(merge3(base, mine, theirs).merged, 'done')).toEqual({ body: '"theirs"' });
  });

  it('takes the same change made on both sides once', () => {
    const both = edit((d) => (cfg(d, 'done').body = '"same"'));
    expect(merge3(base, both, structuredClone(both))).toMatchObject({ merged: both, conflicts: [] });
  });

  it('never conflicts on positions: mine if I moved the node, else theirs', () => {
    const mine = edit((d) => (nodeOf(d, 'calc')!.position = { x: 1, y: 1 }));
    const theirs = edit((d) => {
      nodeOf(d, 'calc')!.position = { x: 2, y: 2 };
      nodeOf(d, 'done')!.position = { x: 3, y: 3 };
      cfg(d, 'calc').fields = [];
    });
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(nodeOf(merged, 'calc')).toEqual({ id: 'calc', type: 'set', config: { fields: [] }, position: { x: 1, y: 1 } });
    expect(nodeOf(merged, 'done')!.position).toEqual({ x: 3, y: 3 });
  });

  it('keeps nodes added on either side, theirs after the node they follow', () => {
    const mine = edit((d) => d.nodes.push({ id: 'log_1', type: 'log', config: { message: '"m"' } }));
    const theirs = edit((d) => d.nodes.splice(2, 0, { id: 'log_2', type: 'log', config: { message: '"t"' } }));
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(ids(merged)).toEqual(['start', 'calc', 'log_2', 'done', 'log_1']);
  });

  it('takes a node both added identically without a conflict', () => {
    const added: FlowNode = { id: 'set_1', type: 'set', config: { fields: [] }, position: { x: 5, y: 5 } };
    const mine = edit((d) => d.nodes.push(added));
    const theirs = edit((d) => d.nodes.push(structuredClone(added)));
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(merged.nodes.filter((n) => n.id === 'set_1')).toEqual([added]);
  });

  it('deletes a node one side deleted and the other only moved, with its edges', () => {
    const mine = edit((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'calc');
      d.edges = [{ from: 'start', to: 'done' }];
    });
    const theirs = edit((d) => (nodeOf(d, 'calc')!.position = { x: 9, y: 9 }));
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(ids(merged)).toEqual(['start', 'done']);
    expect(merged.edges).toEqual([{ from: 'start', to: 'done' }]);
  });

  it('adds and removes edges independently', () => {
    const mine = edit((d) => {
      d.edges = d.edges.filter((e) => e.from !== 'calc');
      d.edges.push({ from: 'calc', to: 'done', port: 'error' });
    });
    const theirs = edit((d) => {
      d.nodes.push({ id: 'oops', type: 'response', config: { status: 500 } });
      d.edges.push({ from: 'calc', to: 'oops', port: 'error' });
    });
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(merged.edges).toEqual([
      { from: 'start', to: 'calc' },
      { from: 'calc', to: 'done', port: 'error' },
      { from: 'calc', to: 'oops', port: 'error' },
    ]);
  });

  it('treats an edge without port and one with port "out" as the same edge', () => {
    const mine = edit((d) => (d.edges[0].port = 'out'));
    const theirs = edit((d) => d.edges.splice(0, 1));
    expect(merge3(base, mine, theirs).merged.edges).toEqual([{ from: 'calc', to: 'done' }]);
  });

  it('drops edges to a node the other side deleted', () => {
    const mine = edit((d) => {
      d.nodes.push({ id: 'log_1', type: 'log' });
      d.edges.push({ from: 'calc', to: 'log_1' });
    });
    const theirs = edit((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'calc');
      d.edges = [];
    });
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(ids(merged)).toEqual(['start', 'done', 'log_1']);
    expect(merged.edges).toEqual([]);
  });

  it('carries an edit of a node to its new id when the other side renamed it', () => {
    // As the editor renames: the edges and nodes.<id> references follow.
    const renamed = edit((d) => Object.assign(d, renameNode(d, 'calc', 'totals')));
    const edited = edit((d) => {
      cfg(d, 'calc').fields = [{ name: 'n', value: '2' }];
      nodeOf(d, 'calc')!.position = { x: 250, y: 50 };
    });
    for (const [mine, theirs] of [
      [renamed, edited],
      [edited, renamed],
    ]) {
      const { merged, conflicts } = merge3(base, mine, theirs);
      expect(conflicts).toEqual([]);
      expect(ids(merged)).toEqual(['start', 'totals', 'done']);
      expect(nodeOf(merged, 'totals')).toMatchObject({ type: 'set', config: { fields: [{ name: 'n', value: '2' }] }, position: { x: 250, y: 50 } });
      expect(cfg(merged, 'done').body).toBe('nodes.totals');
      expect(merged.edges).toEqual([
        { from: 'start', to: 'totals' },
        { from: 'totals', to: 'done' },
      ]);
    }
  });

  it('finds renames by an unchanged config when the node moved too', () => {
    const mine = edit((d) => {
      Object.assign(d, renameNode(d, 'calc', 'totals'));
      nodeOf(d, 'totals')!.position = { x: 1, y: 2 };
    });
    const theirs = edit((d) => (cfg(d, 'calc').fields = []));
    expect(renames(base, mine, theirs)).toEqual(new Map([['calc', 'totals']]));
    expect(renames(base, theirs, mine)).toEqual(new Map());
    expect(nodeOf(merge3(base, mine, theirs).merged, 'totals')).toEqual({ id: 'totals', type: 'set', config: { fields: [] }, position: { x: 1, y: 2 } });
  });

  it('merges flow renames and descriptions from either side', () => {
    const mine = edit((d) => (d.name = 'orders-v2'));
    const theirs = edit((d) => delete d.description);
    const { merged, conflicts } = merge3(base, mine, theirs);
    expect(conflicts).toEqual([]);
    expect(merged.name).toBe('orders-v2');
    expect(merged).not.toHaveProperty('description');
  });

  it('copes with documents without edges', () => {
    const bare = { version: 1, name: 'x', nodes: [] } as unknown as FlowDoc;
    const mine = { ...bare, nodes: [{ id: 'a', type: 'log' }] };
    expect(merge3(bare, mine, bare).merged).toEqual({ version: 1, name: 'x', nodes: [{ id: 'a', type: 'log' }], edges: [] });
  });
});

describe('merge3 conflicts', () => {
  it('reports the same field changed differently, per node, with the three versions', () => {
    const mine = edit((d) => {
      cfg(d, 'done').body = '"mine"';
      cfg(d, 'calc').fields = [{ name: 'n', value: 'mine' }];
    });
    const theirs = edit((d) => {
      cfg(d, 'done').body = '"theirs"';
      cfg(d, 'done').status = 202;
      cfg(d, 'calc').fields = [{ name: 'n', value: 'theirs' }];
    });
    const r = merge3(base, mine, theirs);
    expect(r.conflicts.map((c) => c.key)).toEqual(['node:calc', 'node:done']);
    const done = r.conflicts[1] as NodeConflict;
    expect(done.fields).toEqual(['config.body']);
    expect(done.base).toEqual(nodeOf(base, 'done'));
    expect(done.mine).toEqual(nodeOf(mine, 'done'));
    expect(done.theirs).toEqual(nodeOf(theirs, 'done'));
    // Their status change is not in question: both choices keep it.
    expect(done.take.mine!.config).toEqual({ status: 202, body: '"mine"' });
    expect(done.take.theirs!.config).toEqual({ status: 202, body: '"theirs"' });
    // Until decided, the merge holds mine.
    expect(cfg(r.merged, 'done').body).toBe('"mine"');

    const chosen = resolve(r, { 'node:done': 'theirs', 'node:calc': 'mine' });
    expect(cfg(chosen, 'done')).toEqual({ status: 202, body: '"theirs"' });
    expect(cfg(chosen, 'calc').fields).toEqual([{ name: 'n', value: 'mine' }]);
    expect(ids(chosen)).toEqual(ids(base));
    expect(chosen.edges).toEqual(base.edges);
  });

  it('reports a node one side deleted and the other changed; the choice keeps or drops its edges', () => {
    const mine = edit((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'calc');
      d.edges = [{ from: 'start', to: 'done' }];
    });
    const theirs = edit((d) => (cfg(d, 'calc').fields = []));
    const r = merge3(base, mine, theirs);
    expect(r.conflicts).toHaveLength(1);
    const c = r.conflicts[0] as NodeConflict;
    expect(c).toMatchObject({ key: 'node:calc', fields: ['deleted'], mine: undefined, take: { mine: undefined } });
    expect(c.take.theirs).toEqual(nodeOf(theirs, 'calc'));

    const deleted = resolve(r, { 'node:calc': 'mine' });
    expect(deleted).toEqual(r.merged);
    expect(ids(deleted)).toEqual(['start', 'done']);
    expect(deleted.edges).toEqual([{ from: 'start', to: 'done' }]);

    const kept = resolve(r, { 'node:calc': 'theirs' });
    expect(ids(kept)).toEqual(['start', 'calc', 'done']);
    expect(cfg(kept, 'calc').fields).toEqual([]);
    expect(kept.edges).toEqual([{ from: 'start', to: 'done' }, ...base.edges]);
  });

  it('reports their deletion of a node I changed the same way', () => {
    const mine = edit((d) => (cfg(d, 'done').body = '"mine"'));
    const theirs = edit((d) => {
      d.nodes = d.nodes.filter((n) => n.id !== 'done');
      d.edges = d.edges.filter((e) => e.to !== 'done');
    });
    const r = merge3(base, mine, theirs);
    expect(r.conflicts.map((c) => c.key)).toEqual(['node:done']);
    expect(cfg(r.merged, 'done').body).toBe('"mine"');
    expect(r.merged.edges).toEqual(base.edges);
    const gone = resolve(r, { 'node:done': 'theirs' });
    expect(ids(gone)).toEqual(['start', 'calc']);
    expect(gone.edges).toEqual([{ from: 'start', to: 'calc' }]);
  });

  it('reports a type change as the whole node of each side', () => {
    const mine = edit((d) => (nodeOf(d, 'calc')!.type = 'log'));
    const theirs = edit((d) => (cfg(d, 'calc').fields = []));
    const c = merge3(base, mine, theirs).conflicts[0] as NodeConflict;
    expect(c.fields).toEqual(['type']);
    expect(c.take.mine).toEqual(nodeOf(mine, 'calc'));
    expect(c.take.theirs).toEqual(nodeOf(theirs, 'calc'));
  });

  it('reports a node both added differently', () => {
    const mine = edit((d) => d.nodes.push({ id: 'set_1', type: 'set', config: { fields: [{ name: 'a', value: '1' }] } }));
    const theirs = edit((d) => d.nodes.push({ id: 'set_1', type: 'set', config: { fields: [{ name: 'b', value: '2' }] } }));
    const r = merge3(base, mine, theirs);
    expect(r.conflicts).toMatchObject([{ key: 'node:set_1', fields: ['config.fields'], base: undefined }]);
    expect(cfg(resolve(r, { 'node:set_1': 'theirs' }), 'set_1').fields).toEqual([{ name: 'b', value: '2' }]);
  });

  it('reports renames of the flow to different names', () => {
    const mine = edit((d) => (d.name = 'orders-mine'));
    const theirs = edit((d) => (d.name = 'orders-theirs'));
    const r = merge3(base, mine, theirs);
    expect(r.conflicts).toEqual([{ kind: 'flow', key: 'flow:name', field: 'name', base: 'orders', mine: 'orders-mine', theirs: 'orders-theirs' }]);
    expect(r.merged.name).toBe('orders-mine');
    expect(resolve(r, { 'flow:name': 'theirs' }).name).toBe('orders-theirs');
  });

  it('leaves everything that does not collide merged whatever is chosen', () => {
    const mine = edit((d) => {
      cfg(d, 'done').body = '"mine"';
      d.nodes.push({ id: 'log_1', type: 'log' });
      d.edges.push({ from: 'calc', to: 'log_1' });
    });
    const theirs = edit((d) => {
      cfg(d, 'done').body = '"theirs"';
      d.description = 'theirs';
    });
    const r = merge3(base, mine, theirs);
    for (const side of ['mine', 'theirs'] as const) {
      const d = resolve(r, { 'node:done': side });
      expect(d.description).toBe('theirs');
      expect(ids(d)).toContain('log_1');
      expect(d.edges).toContainEqual({ from: 'calc', to: 'log_1' });
    }
  });
});

describe('helpers', () => {
  it('compares JSON values deeply, whatever the key order', () => {
    expect(same({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(same({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(same([1], { 0: 1 })).toBe(false);
    expect(same({ a: null }, { a: {} })).toBe(false);
  });
  it('lists the fields in which two versions of a node differ', () => {
    const a: FlowNode = { id: 'x', type: 'set', config: { fields: [], other: 1 }, position: { x: 0, y: 0 } };
    expect(nodeDiff(a, { ...a, position: { x: 5, y: 5 } })).toEqual([]);
    expect(nodeDiff(a, { id: 'x', type: 'log', config: { fields: [] } })).toEqual(['type', 'config.other']);
    expect(nodeDiff(a, undefined)).toEqual(['deleted']);
  });
});

describe('a copy of a flow', () => {
  it('suggests a path of its own', () => {
    expect(copyPath('/orders', 'orders-copy')).toBe('/orders-copy');
    expect(copyPath('/orders/:shop', 'x')).toBe('/orders-copy/:shop');
    expect(copyPath('/api/orders/', 'x')).toBe('/api/orders-copy');
    expect(copyPath('/', 'orders-copy')).toBe('/orders-copy');
    expect(copyPath('/:id', 'orders-copy')).toBe('/orders-copy/:id');
  });
  it('checks paths as the server does', () => {
    expect(pathProblem('/orders-copy/:shop')).toBe('');
    expect(pathProblem('/')).toBe('');
    expect(pathProblem('orders')).toMatch(/start with/);
    expect(pathProblem('/a//b')).toMatch(/empty segment/);
    expect(pathProblem('/a b')).toMatch(/may hold only/);
    expect(pathProblem('/:1')).toMatch(/Parameter/);
    expect(pathProblem('/:a/:a')).toMatch(/twice/);
    expect(pathProblem('/healthz')).toMatch(/reserved/);
  });
  it('renames the flow and moves its trigger', () => {
    const c = copyOf(base, 'orders-copy', '/orders-copy');
    expect(c.name).toBe('orders-copy');
    expect(cfg(c, 'start')).toEqual({ method: 'GET', path: '/orders-copy' });
    expect(cfg(base, 'start').path).toBe('/orders');
    expect(c.nodes[1]).toBe(base.nodes[1]);
  });
});
