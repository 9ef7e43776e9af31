// The editor's keyboard shortcuts: Ctrl+S save, Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y)
// undo/redo, Ctrl+C / Ctrl+V copy/paste, Ctrl+A select all; viewers may only copy.
import { useEffect, useRef } from 'react';
import type { EditorStore } from '../store';

function isEditable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.closest) return false;
  return !!el.closest('input, textarea, select, [contenteditable="true"], .cm-editor');
}

export function useKeyboardShortcuts(store: EditorStore, readOnly: boolean, save: () => Promise<boolean>, clip: { copy: () => boolean; paste: () => void }) {
  const readOnlyRef = useRef(readOnly);
  readOnlyRef.current = readOnly;
  const saveRef = useRef(save);
  saveRef.current = save;
  const { copy, paste } = clip;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const k = e.key.toLowerCase();
      if (readOnlyRef.current && k !== 'c' && k !== 'a') {
        if (k === 's') e.preventDefault();
        return;
      }
      if (k === 's') {
        e.preventDefault();
        if (!document.querySelector('.modal')) void saveRef.current();
        return;
      }
      if (isEditable(e.target) || document.querySelector('.modal')) return;
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        store.undo();
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        store.redo();
      } else if (k === 'c') {
        if (window.getSelection()?.toString()) return;
        if (copy()) e.preventDefault();
      } else if (k === 'v') {
        e.preventDefault();
        paste();
      } else if (k === 'a') {
        e.preventDefault();
        store.select(store.get().doc.nodes.map((n) => n.id), []);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store, copy, paste]);
}
