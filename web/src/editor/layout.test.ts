import { describe, expect, it } from 'vitest';
import { autoLayout, boundsOf, fitReadable, LAYOUT_FIT } from './layout';
import type { FlowDoc } from '../types';

const view = { width: 1000, height: 600 };

describe('auto-layout', () => {
  it('lays a chain out left to right', () => {
    const doc: FlowDoc = {
      version: 1,
      name: 'f',
      nodes: [
        { id: 'a', type: 'trigger.http' },
        { id: 'b', type: 'set' },
        { id: 'c', type: 'response' },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    };
    const pos = autoLayout(doc, () => undefined);
    expect(pos.get('a')!.x).toBeLessThan(pos.get('b')!.x);
    expect(pos.get('b')!.x).toBeLessThan(pos.get('c')!.x);
  });
});

describe('the viewport after auto-layout', () => {
  it('bounds rectangles', () => {
    expect(boundsOf([])).toBeNull();
    expect(boundsOf([{ x: 10, y: 20, width: 100, height: 50 }, { x: -10, y: 40, width: 20, height: 100 }])).toEqual({ x: -10, y: 20, width: 120, height: 120 });
  });

  it('fits a small flow whole, centred, at most at the maximum zoom', () => {
    const v = fitReadable({ x: 0, y: 0, width: 400, height: 200 }, undefined, view);
    expect(v.zoom).toBe(LAYOUT_FIT.maxZoom);
    expect(v.x + 200 * v.zoom).toBeCloseTo(500);
    expect(v.y + 100 * v.zoom).toBeCloseTo(300);
  });

  it('fits a medium flow whole when that stays readable', () => {
    const v = fitReadable({ x: 0, y: 0, width: 1000, height: 300 }, undefined, view);
    expect(v.zoom).toBeCloseTo(1000 / (1000 * (1 + LAYOUT_FIT.padding)));
    expect(v.zoom).toBeGreaterThanOrEqual(LAYOUT_FIT.minZoom);
  });

  it('never zooms a large flow out below the minimum, and shows its start at the left', () => {
    const bounds = { x: 0, y: 0, width: 6000, height: 400 };
    const start = { x: 0, y: 150, width: 200, height: 100 };
    const v = fitReadable(bounds, start, view);
    expect(v.zoom).toBe(LAYOUT_FIT.minZoom);
    // The start's left edge sits at the margin; the flow (400 high) fits vertically, centred.
    expect(v.x + start.x * v.zoom).toBeCloseTo(LAYOUT_FIT.margin);
    expect(v.y + 200 * v.zoom).toBeCloseTo(300);
  });

  it('centres a tall flow on its start, without blank space past its ends', () => {
    const bounds = { x: 0, y: 0, width: 6000, height: 4000 };
    const mid = fitReadable(bounds, { x: 0, y: 2000, width: 200, height: 100 }, view);
    expect(mid.y + 2050 * mid.zoom).toBeCloseTo(300);
    // A start at the very top would leave blank space above: the top of the flow stays at the margin.
    const top = fitReadable(bounds, { x: 0, y: 0, width: 200, height: 100 }, view);
    expect(top.y).toBeCloseTo(LAYOUT_FIT.margin);
    // A start in the middle of a wide flow: still shown, not the flow's left end.
    const inner = fitReadable(bounds, { x: 3000, y: 2000, width: 200, height: 100 }, view);
    expect(inner.x + 3000 * inner.zoom).toBeCloseTo(LAYOUT_FIT.margin);
  });
});
