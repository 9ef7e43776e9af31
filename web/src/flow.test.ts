import { describe, expect, it } from 'vitest';
import { cleanDoc, formatFieldPath, initialConfig, newNodeId, normalizeFieldPath, parseFieldPath, portsOf, renameNode } from './flow';
import type { FlowDoc, NodeTypes, Spec } from './types';

import served from './generated/catalog.json';

// The node types as the server describes them (internal/docgen writes it).
const specs = (served as NodeTypes).types;
const switchSpec = specs.find((s) => s.type === 'switch')!;

describe('ports', () => {
  it('gives a switch one port per case, then default and error', () => {
    const n = { id: 's', type: 'switch', config: { cases: [{ port: 'gold' }, { port: '' }, { port: 'silver' }, { port: 'gold' }] } };
    expect(portsOf(n, switchSpec)).toEqual(['gold', 'silver', 'default', 'error']);
  });
  it('uses the fixed ports of other types', () => {
    expect(portsOf({ id: 'r', type: 'response' }, specs.find((s) => s.type === 'response'))).toEqual([]);
    expect(portsOf({ id: 'h', type: 'http.request' }, specs.find((s) => s.type === 'http.request'))).toEqual(['out', 'error']);
  });
});

describe('ids', () => {
  it('numbers new ids by type', () => {
    expect(newNodeId('set', ['set_1', 'calc'])).toBe('set_2');
    expect(newNodeId('http.request', [])).toBe('http_request_1');
    expect(newNodeId('trigger.http', [])).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);
  });
  it('renames a node with its edges and references', () => {
    const doc: FlowDoc = {
      version: 1,
      name: 'x',
      nodes: [
        { id: 'a', type: 'set', config: { fields: [{ name: 'n', value: '1' }] } },
        { id: 'b', type: 'response', config: { body: '{"n": nodes.a.n, "m": nodes.ab}' } },
      ],
      edges: [{ from: 'a', to: 'b' }],
    };
    const out = renameNode(doc, 'a', 'calc');
    expect(out.nodes.map((n) => n.id)).toEqual(['calc', 'b']);
    expect(out.nodes[1].config!.body).toBe('{"n": nodes.calc.n, "m": nodes.ab}');
    expect(out.edges).toEqual([{ from: 'calc', to: 'b' }]);
  });
});

describe('field paths', () => {
  it('reads the shapes a problem may use', () => {
    expect(parseFieldPath('fields[0].value')).toEqual(['fields', 0, 'value']);
    expect(parseFieldPath('fields.0.value')).toEqual(['fields', 0, 'value']);
    expect(parseFieldPath('/fields/0/value')).toEqual(['fields', 0, 'value']);
    expect(normalizeFieldPath('cases.1.condition')).toBe('cases[1].condition');
    expect(formatFieldPath([])).toBe('');
  });
});

describe('documents', () => {
  it('writes the document as FLOW-FORMAT.md does', () => {
    const doc = cleanDoc({
      version: 1,
      name: 'x',
      description: '',
      nodes: [{ id: 'a', type: 'set', config: {}, position: { x: 1, y: 2 } }],
      edges: [{ from: 'a', to: 'b', port: 'out' }, { from: 'a', to: 'c', port: 'error' }],
    });
    expect(doc).toEqual({ version: 1, name: 'x', nodes: [{ id: 'a', type: 'set', position: { x: 1, y: 2 } }], edges: [{ from: 'a', to: 'b' }, { from: 'a', to: 'c', port: 'error' }] });
  });
  it('fills required fields only', () => {
    const spec: Spec = {
      type: 'trigger.http',
      title: '',
      category: '',
      description: '',
      ports: ['out'],
      output: '',
      fields: [
        { name: 'method', label: '', description: '', kind: 'enum', required: true, default: 'GET', options: ['GET', 'POST'] },
        { name: 'path', label: '', description: '', kind: 'string', required: true },
        { name: 'note', label: '', description: '', kind: 'string', default: 'x' },
      ],
    };
    expect(initialConfig(spec)).toEqual({ method: 'GET', path: '' });
  });
});
