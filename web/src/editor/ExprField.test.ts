import { describe, expect, it } from 'vitest';
import { setExprContext } from '../cm/expr';
import { placeholderFor } from './ExprField';

describe('placeholders', () => {
  it('name a node of the flow, with a field it makes, instead of the example node', () => {
    setExprContext({ nodeIds: [], outputs: {}, envNames: [], pathParams: [], nodeTypes: {} });
    expect(placeholderFor('nodes.calc.total > 100')).toBe('nodes.calc.total > 100');
    setExprContext({
      nodeIds: ['start', 'set_1'],
      nodeTypes: { start: 'trigger.http', set_1: 'set' },
      outputs: {},
      envNames: [],
      pathParams: [],
      triggerId: 'start',
      types: { start: { kind: 'map', fields: { body: { kind: 'any' } } }, set_1: { kind: 'map', fields: { sum: { kind: 'number' } } } },
    });
    expect(placeholderFor('nodes.calc.total > 100')).toBe('nodes.set_1.sum > 100');
    expect(placeholderFor('{"total": nodes.calc.total}')).toBe('{"total": nodes.set_1.sum}');
    expect(placeholderFor('request.body.id')).toBe('request.body.id');
  });
});
