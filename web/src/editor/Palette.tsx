// The node palette, generated from GET /api/v1/node-types: grouped by the
// server's categories in its order, searchable. Drag an item onto the
// canvas, or press Enter or click "+" to add it after the selected node
// (page/useAddNode.ts).
import { useMemo, useRef, useState } from 'react';
import type { Spec } from '../types';
import { useCatalog, categoryColor } from '../catalog';

interface Props {
  specs: Spec[];
  onDrop: (type: string, clientX: number, clientY: number) => boolean;
  onAdd: (type: string) => void;
}

export function Palette({ specs, onDrop, onAdd }: Props) {
  const { categories } = useCatalog();
  const [q, setQ] = useState('');
  const [ghost, setGhost] = useState<{ spec: Spec; x: number; y: number } | null>(null);
  const drag = useRef<{ spec: Spec; x0: number; y0: number; active: boolean; pointer: number } | null>(null);

  const groups = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const match = (s: Spec) =>
      !needle || s.type.toLowerCase().includes(needle) || s.title.toLowerCase().includes(needle) || s.description.toLowerCase().includes(needle) || s.category.toLowerCase().includes(needle);
    const m = new Map<string, Spec[]>();
    for (const s of specs.filter(match)) {
      const list = m.get(s.category) ?? [];
      list.push(s);
      m.set(s.category, list);
    }
    const rank = (c: string) => {
      const i = categories.findIndex((x) => x.name === c);
      return i < 0 ? categories.length : i;
    };
    return [...m.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
  }, [specs, q, categories]);
  const color = (category: string) => categoryColor(categories, category);

  return (
    <aside className="palette" aria-label="Node palette">
      <input className="search" type="search" placeholder="Search nodes" aria-label="Search nodes" value={q} onChange={(e) => setQ(e.target.value)} />
      <div className="palette-groups">
        {groups.length === 0 && <p className="muted small-text">No node type matches “{q}”.</p>}
        {groups.map(([cat, list]) => (
          <section key={cat} className="palette-group">
            <h3 title={categories.find((c) => c.name === cat)?.description}>{cat}</h3>
            {list.map((s) => (
              <div
                key={s.type}
                className="palette-item"
                role="button"
                tabIndex={0}
                data-type={s.type}
                title={`${s.description}\n\nDrag onto the canvas, or click (or press Enter) to add it after the selected node.`}
                aria-label={`${s.title} (${s.type})`}
                style={{ ['--cat' as string]: color(s.category) }}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onAdd(s.type);
                  }
                }}
                onPointerDown={(e) => {
                  if (e.button !== 0) return;
                  e.preventDefault();
                  (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
                  drag.current = { spec: s, x0: e.clientX, y0: e.clientY, active: false, pointer: e.pointerId };
                }}
                onPointerMove={(e) => {
                  const d = drag.current;
                  if (!d || d.pointer !== e.pointerId) return;
                  if (!d.active && Math.hypot(e.clientX - d.x0, e.clientY - d.y0) > 4) d.active = true;
                  if (d.active) setGhost({ spec: d.spec, x: e.clientX, y: e.clientY });
                }}
                onPointerUp={(e) => {
                  const d = drag.current;
                  drag.current = null;
                  setGhost(null);
                  if (!d || d.pointer !== e.pointerId) return;
                  if (d.active) onDrop(d.spec.type, e.clientX, e.clientY);
                }}
                onPointerCancel={() => {
                  drag.current = null;
                  setGhost(null);
                }}
              >
                <div className="pi-head">
                  <span className="pi-dot" />
                  <span className="pi-title">{s.title}</span>
                  <code className="pi-type">{s.type}</code>
                  <button
                    className="icon pi-add"
                    aria-label={`Add ${s.title}`}
                    title="Add to the canvas"
                    onPointerDown={(e) => e.stopPropagation()}
                    onClick={(e) => {
                      e.stopPropagation();
                      onAdd(s.type);
                    }}
                  >
                    +
                  </button>
                </div>
                <div className="pi-desc">{s.description}</div>
              </div>
            ))}
          </section>
        ))}
      </div>
      {ghost && (
        <div className="drag-ghost" style={{ left: ghost.x + 8, top: ghost.y + 8, ['--cat' as string]: color(ghost.spec.category) }}>
          {ghost.spec.title}
        </div>
      )}
    </aside>
  );
}
