import { describe, expect, it } from 'vitest';
import { categoryColor, makeCatalog, summary } from './catalog';
import served from './generated/catalog.json';
import type { NodeTypes } from './types';

// The catalog as the server serves it (written by internal/docgen).
const catalog = makeCatalog(served as NodeTypes, null);
const spec = (type: string) => catalog.byType.get(type);

describe('catalog', () => {
  it('colours nodes by their category', () => {
    for (const s of catalog.specs) expect(categoryColor(catalog.categories, s.category)).toMatch(/^#[0-9a-f]{6}$/);
    expect(categoryColor(catalog.categories, 'nonesuch')).toBe('#7a869a');
  });
  it('sums nodes up from their templates', () => {
    expect(summary({ id: 't', type: 'trigger.http', config: { method: 'POST', path: '/orders/:id' } }, spec('trigger.http'))).toBe('POST /orders/:id');
    expect(summary({ id: 'h', type: 'http.request', config: { url: '"https://x"' } }, spec('http.request'))).toBe('GET "https://x"');
    expect(summary({ id: 's', type: 'set', config: { fields: [{ name: 'a' }, { name: 'b' }] } }, spec('set'))).toBe('a, b');
    expect(summary({ id: 'l', type: 'log', config: { level: 'warn' } }, spec('log'))).toBe('warn');
    expect(summary({ id: 'c', type: 'code.js', config: { source: 'const a = 1;\nreturn a' } }, spec('code.js'))).toBe('const a = 1;');
    expect(summary({ id: 'x', type: 'set', config: { fields: 'hostile' } }, spec('set'))).toBe('');
    expect(summary({ id: 'x', type: 'nonesuch' }, undefined)).toBe('');
    for (const s of catalog.specs) expect(s.summary, s.type).toBeTruthy();
  });
});
