// What the server describes once (GET /api/v1/node-types): node types,
// their palette categories and the expression language. Everything the
// designer shows of a node type is drawn from here, never hard-coded.
import { createContext, useContext } from 'react';
import type { Category, FlowNode, Info, NodeTypes, Spec } from './types';

export interface Catalog {
  specs: Spec[];
  byType: Map<string, Spec>;
  /** The palette's groups, in the server's order. */
  categories: Category[];
  info: Info | null;
}

export function makeCatalog(nt: NodeTypes, info: Info | null): Catalog {
  const specs = nt.types ?? [];
  return { specs, byType: new Map(specs.map((s) => [s.type, s])), categories: nt.categories ?? [], info };
}

export const CatalogContext = createContext<Catalog>({ specs: [], byType: new Map(), categories: [], info: null });
export const useCatalog = () => useContext(CatalogContext);

const NEUTRAL = '#7a869a';

/** The canvas's accent colour for a node of the named category. */
export function categoryColor(categories: Category[], name: string | undefined): string {
  return categories.find((c) => c.name === name)?.color ?? NEUTRAL;
}

/** The colour of a node type's category, from a component. */
export function useCategoryColor(): (name: string | undefined) => string {
  const { categories } = useCatalog();
  return (name) => categoryColor(categories, name);
}

/**
 * A node summed up in one line by its type's summary template: {field} is
 * the field's value (its default when unset), {list.item} that item field
 * of every entry, joined by commas. Long values are cut, code and text to
 * their first line; separators left dangling by empty values are dropped.
 */
export function summary(node: FlowNode, spec: Spec | undefined): string {
  const tmpl = spec?.summary;
  if (!tmpl) return '';
  const config = node.config ?? {};
  const text = tmpl.replace(/\{([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?\}/g, (_m, field: string, item?: string) => {
    const f = spec.fields.find((x) => x.name === field);
    const v = config[field] ?? f?.default;
    if (item) return Array.isArray(v) ? v.map((it) => shown((it as Record<string, unknown> | null)?.[item], 20)).filter(Boolean).join(', ') : '';
    return shown(v, 30);
  });
  return cut(text.replace(/^[\s·:,]+|[\s·:,]+$/g, ''), 44);
}

function shown(v: unknown, n: number): string {
  if (v === undefined || v === null || v === '') return '';
  const s = typeof v === 'string' ? v.split('\n')[0] : JSON.stringify(v);
  return cut(s, n);
}

function cut(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
