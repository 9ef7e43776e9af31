import { describe, expect, it } from 'vitest';
import { bundleTargets, chooseTarget, targetLabel } from './targets';
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
