import { describe, expect, it } from 'vitest';
import { bundleTargets, chooseTarget, rememberTarget, rememberedTarget, targetLabel } from './targets';
import type { BundleTarget, Info } from './types';

const info = (bundle_targets?: BundleTarget[]): Info => ({ version: 'dev', gateway_url: '', targets: ['local'], bundle_targets });
const goMissing: BundleTarget[] = [
  { name: 'js', available: true },
  { name: 'go', available: false, reason: 'the Go toolchain is not installed' },
];
const both: BundleTarget[] = [
  { name: 'js', available: true },
  { name: 'go', available: true },
];

describe('bundle targets', () => {
  it('uses what the server reports', () => {
    expect(bundleTargets(info(goMissing))).toEqual(goMissing);
  });
  it('offers js and go when the server does not say (older server, or /info failed)', () => {
    expect(bundleTargets(info()).map((t) => [t.name, t.available])).toEqual([
      ['js', true],
      ['go', true],
    ]);
    expect(bundleTargets(null).map((t) => t.name)).toEqual(['js', 'go']);
    expect(bundleTargets(info([])).map((t) => t.name)).toEqual(['js', 'go']);
  });
  it('labels the known targets', () => {
    expect(targetLabel('js')).toBe('JavaScript');
    expect(targetLabel('go')).toBe('Go');
    expect(targetLabel('wasm')).toBe('wasm');
  });
});

describe('choosing a target', () => {
  it('keeps the remembered choice while it can be built', () => {
    expect(chooseTarget('go', both)).toBe('go');
    expect(chooseTarget('js', both)).toBe('js');
  });
  it('falls back to one that can be built', () => {
    expect(chooseTarget('go', goMissing)).toBe('js');
    expect(chooseTarget(null, both)).toBe('js');
    expect(chooseTarget('wasm', both)).toBe('js');
    expect(chooseTarget('go', [{ name: 'js', available: false }, { name: 'go', available: true }])).toBe('go');
    expect(chooseTarget(null, [{ name: 'go', available: false }])).toBe('js');
  });
});


function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe('the remembered publish target', () => {
  it('is the flow own choice, else the last choice on any flow', () => {
    const kv = memory();
    expect(rememberedTarget('a', kv)).toBeNull();
    rememberTarget('a', 'go', kv);
    expect(rememberedTarget('a', kv)).toBe('go');
    // A flow never chosen for starts with the last choice.
    expect(rememberedTarget('b', kv)).toBe('go');
    rememberTarget('b', 'js', kv);
    expect(rememberedTarget('b', kv)).toBe('js');
    // "a" keeps its own.
    expect(rememberedTarget('a', kv)).toBe('go');
    expect(rememberedTarget('c', kv)).toBe('js');
  });
  it('reads the per-flow key of earlier versions', () => {
    const kv = memory();
    kv.setItem('flowline.publish-target.old', 'go');
    expect(rememberedTarget('old', kv)).toBe('go');
  });
  it('does without storage', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(rememberedTarget('a', broken)).toBeNull();
    expect(() => rememberTarget('a', 'go', broken)).not.toThrow();
    expect(rememberedTarget('a', null)).toBeNull();
  });
});
