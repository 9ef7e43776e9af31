import { describe, expect, it } from 'vitest';
import { EditorState } from '@codemirror/state';
import { CompletionContext } from '@codemirror/autocomplete';
import { completeExpr, exprContext, exprExtensions, setExprDoc } from './expr';
import served from '../generated/catalog.json';

// The expression language as the server describes it (internal/docgen writes it).
setExprDoc(served.expr);

function labels(doc: string, explicit = false): string[] {
  const state = EditorState.create({ doc, extensions: exprExtensions() });
  const r = completeExpr(new CompletionContext(state, doc.length, explicit));
  return r ? r.options.map((o) => o.label) : [];
}

describe('expression completion', () => {
  exprContext.current = {
    nodeIds: ['start', 'calc'],
    nodeTypes: { start: 'trigger.http', calc: 'set' },
    outputs: { calc: { total: 120, expensive: [{ sku: 'a' }], meta: { tier: 'gold' } }, start: { body: { customer: 'c1' } } },
    envNames: ['API_KEY'],
    pathParams: ['shop'],
    request: { body: { customer: 'c1', items: [] }, headers: { 'x-api-key': 'k' } },
  };

  it('completes the request', () => {
    expect(labels('request.')).toEqual(['method', 'path', 'params', 'query', 'headers', 'body']);
    expect(labels('request.params.')).toContain('shop');
    expect(labels('request.body.')).toEqual(['customer', 'items']);
    expect(labels('request.headers.')).toContain('x-api-key');
  });
  it('completes node ids and their last outputs', () => {
    expect(labels('nodes.')).toEqual(['start', 'calc']);
    expect(labels('nodes.calc.')).toEqual(['total', 'expensive', 'meta']);
    expect(labels('nodes.calc.meta.')).toEqual(['tier']);
    expect(labels('sum(nodes.ca')).toEqual(['start', 'calc']);
  });
  it('completes env and trace', () => {
    expect(labels('env.')).toEqual(['API_KEY']);
    expect(labels('trace.')).toEqual(['id']);
  });
  it('offers roots and built-ins at the top level', () => {
    const top = labels('su');
    for (const f of ['request', 'nodes', 'env', 'trace', 'len', 'sum', 'map', 'filter', 'upper', 'lower', 'int', 'float', 'string', 'now']) expect(top).toContain(f);
  });
  it('stays quiet inside closures and after calls', () => {
    expect(labels('map(xs, .sk')).toEqual([]);
    expect(labels('len(x).')).toEqual([]);
  });
});

describe('typed completion', () => {
  it('offers the fields a node declares before any test run, with their types', () => {
    exprContext.current = {
      nodeIds: ['start', 'set_1'],
      nodeTypes: { start: 'trigger.http', set_1: 'set' },
      outputs: {},
      envNames: [],
      pathParams: [],
      triggerId: 'start',
      types: {
        start: { kind: 'map', fields: { body: { kind: 'map', from: 'schema', fields: { email: { kind: 'string' } } } } },
        set_1: { kind: 'map', fields: { total: { kind: 'number' }, items: { kind: 'list', elem: { kind: 'map', fields: { sku: { kind: 'string' } } } } } },
      },
    };
    const state = EditorState.create({ doc: 'nodes.set_1.', extensions: exprExtensions() });
    const r = completeExpr(new CompletionContext(state, 12, false))!;
    expect(r.options.map((o) => [o.label, o.detail])).toEqual([
      ['total', 'number'],
      ['items', 'list of {sku}'],
    ]);
    expect(labels('nodes.set_1.items.0.')).toEqual(['sku']);
    expect(labels('request.body.')).toEqual(['email']);
    const ids = completeExpr(new CompletionContext(EditorState.create({ doc: 'nodes.', extensions: exprExtensions() }), 6, false))!;
    expect(ids.options.find((o) => o.label === 'set_1')?.detail).toBe('set → {total, items}');
    // At the top level, the flow's nodes come by their full reference; not the trigger (that is request).
    expect(labels('set')).toContain('nodes.set_1');
    expect(labels('set')).not.toContain('nodes.start');
  });
});

describe('node completion for the node being edited', () => {
  it('offers the nodes before it first, never itself or the trigger', () => {
    exprContext.current = {
      nodeIds: ['start', 'calc', 'big', 'later'],
      nodeTypes: { start: 'trigger.http', calc: 'set', big: 'if', later: 'set' },
      outputs: {},
      envNames: [],
      pathParams: [],
      triggerId: 'start',
      editing: { id: 'big', upstream: new Set(['start', 'calc']) },
    };
    const r = completeExpr(new CompletionContext(EditorState.create({ doc: 'nodes.', extensions: exprExtensions() }), 6, false))!;
    expect(r.options.map((o) => [o.label, o.boost])).toEqual([
      ['calc', 5],
      ['later', -5],
    ]);
    expect(labels('cal')).toContain('nodes.calc');
    expect(labels('cal')).not.toContain('nodes.big');
  });
});
