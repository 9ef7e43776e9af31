import { describe, expect, it } from 'vitest';
import { upstreamOf } from './useExprContext';

describe('upstreamOf', () => {
  it('is every node with a path of edges to the node, not the node itself', () => {
    const doc = {
      version: 1,
      name: 'f',
      nodes: ['a', 'b', 'c', 'd'].map((id) => ({ id, type: 'set' })),
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'd', to: 'd' },
      ],
    };
    expect([...upstreamOf(doc, 'c')].sort()).toEqual(['a', 'b']);
    expect([...upstreamOf(doc, 'a')]).toEqual([]);
    expect([...upstreamOf(doc, 'd')]).toEqual([]);
  });
});
