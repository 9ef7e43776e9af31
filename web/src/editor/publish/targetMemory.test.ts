import { describe, expect, it } from 'vitest';
import { rememberTarget, rememberedTarget } from './targetMemory';

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
  it('reads the per-flow key targets.ts wrote', () => {
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
