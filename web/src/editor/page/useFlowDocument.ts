// Loading a flow and saving it: the revision the editor is at, unsaved
// changes, Save with If-Match. A 409 merges with what was saved meanwhile
// (merge.ts) and saves again; only overlapping changes open the conflict
// dialog. Reload.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../../api';
import type { FlowDoc, FlowRecord } from '../../types';
import { merge3, type MergeResult } from '../../merge';
import { NAME_RE, cleanDoc, same } from '../../flow';
import { flowHref, navigate, setLeaveGuard } from '../../router';
import { toast } from '../../ui';
import { autoLayout } from '../layout';
import type { EditorStore } from '../store';

/** A flow as loaded from the server. */
export type Loaded = { revision: number; savedName: string; doc: FlowDoc };

/** A document without any positions gets a layout so it is readable. */
function withLayout(doc: FlowDoc): FlowDoc {
  doc = { ...doc, nodes: doc.nodes ?? [], edges: doc.edges ?? [] };
  if (doc.nodes.length === 0 || doc.nodes.some((n) => n.position)) return doc;
  const pos = autoLayout(doc, () => undefined);
  return { ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: pos.get(n.id) })) };
}

/** Loads the flow named `name`; the error is a sentence to show. */
export function useLoadedFlow(name: string) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let alive = true;
    api
      .getFlow(name)
      .then((r) => alive && setLoaded({ revision: r.revision, savedName: r.name, doc: withLayout(r.document) }))
      .catch((e) => alive && setError((e as ApiError).status === 404 ? `There is no flow named “${name}”.` : (e as Error).message));
    return () => {
      alive = false;
    };
  }, [name]);
  return { loaded, error };
}

/**
 * A save refused because someone else saved first: what they saved and how
 * it merges with this edit. Without `theirs` (it could not be fetched) only
 * reloading, overwriting and saving a copy are offered.
 */
export type SaveConflict = {
  /** The revision saved meanwhile, when known. */
  current?: number;
  theirs?: FlowRecord;
  merge?: MergeResult;
};

/** Merges no more often than this in one save: a flow saved every moment elsewhere needs a person. */
const MAX_MERGES = 3;

/** Saving the document in `store` (now `doc`), which was loaded as `initial`. */
export function useFlowDocument(store: EditorStore, initial: Loaded, doc: FlowDoc) {
  const [revision, setRevisionState] = useState(initial.revision);
  // The revision as of now, for code that runs right after a save in the same
  // event (Save & publish publishes the revision that save just made).
  const revisionRef = useRef(initial.revision);
  const setRevision = useCallback((r: number) => {
    revisionRef.current = r;
    setRevisionState(r);
  }, []);
  const [savedDoc, setSavedDoc] = useState<FlowDoc>(initial.doc);
  const savedName = initial.savedName;
  const dirty = doc !== savedDoc;
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<SaveConflict | null>(null);
  // The saved document as of now, for a save right after adopting a merge.
  const savedRef = useRef(savedDoc);
  savedRef.current = savedDoc;
  const markSaved = useCallback((d: FlowDoc) => {
    savedRef.current = d;
    setSavedDoc(d);
  }, []);

  /**
   * Puts `merged` in the editor on top of their revision: one undo step (undo
   * gives back the document before the merge), and unsaved until it is saved.
   */
  const adopt = useCallback(
    (merged: FlowDoc, theirs: FlowRecord) => {
      const cur = store.get().doc;
      if (!same(merged, cur)) store.apply(() => merged);
      const s = store.get();
      const ids = new Set(s.doc.nodes.map((n) => n.id));
      store.select(s.selectedNodes.filter((id) => ids.has(id)));
      setRevision(theirs.revision);
      // What their revision holds; the editor's document differs from it until the merge is saved.
      markSaved(same(s.doc, theirs.document) ? s.doc : theirs.document);
    },
    [store, setRevision, markSaved],
  );

  /** Their revision and how this edit merges with it, since `base` (the revision the editor built on). */
  const mergeWithTheirs = useCallback(
    async (base: number, err: ApiError): Promise<SaveConflict> => {
      const cur = err.body?.current_revision;
      const current = typeof cur === 'number' ? cur : undefined;
      try {
        const [b, theirs] = await Promise.all([api.revision(savedName, base), api.getFlow(savedName)]);
        // The edit as it is now: typing went on while the revisions came.
        return { current: theirs.revision, theirs, merge: merge3(b.document, store.get().doc, theirs.document) };
      } catch {
        return { current };
      }
    },
    [store, savedName],
  );

  // Save, with 409 handling.
  const save = useCallback(async (): Promise<boolean> => {
    if (store.get().doc === savedRef.current) return true;
    if (!NAME_RE.test(store.get().doc.name)) {
      toast('The flow name must be 1-64 characters of a-z, 0-9 and -.', 'error');
      return false;
    }
    setSaving(true);
    try {
      for (let merges = 0; ; merges++) {
        const sending = store.get().doc;
        const base = revisionRef.current;
        try {
          const r = await api.saveFlow(savedName, base, cleanDoc(sending));
          setRevision(r.revision);
          markSaved(sending);
          if (r.name !== savedName) {
            toast(`Saved and renamed to ${r.name}`);
            setLeaveGuard(null);
            void navigate(flowHref(r.name), { force: true, replace: true });
          } else toast(`Saved (revision ${r.revision})`);
          return true;
        } catch (e) {
          const err = e as ApiError;
          if (err.status !== 409) {
            const ps = err.problems();
            toast(`Save failed: ${err.message}${ps.length ? ': ' + ps.map((p) => p.message).join('; ') : ''}`, 'error');
            return false;
          }
          const c = await mergeWithTheirs(base, err);
          if (!c.merge || !c.theirs || c.merge.conflicts.length || merges >= MAX_MERGES) {
            setConflict(c);
            return false;
          }
          // Their changes and mine do not overlap: take both and save again.
          adopt(c.merge.merged, c.theirs);
          toast(`Merged with changes saved by someone else (revision ${c.theirs.revision})`);
          // They made the same changes: nothing is left to save.
          if (store.get().doc === savedRef.current) return true;
        }
      }
    } finally {
      setSaving(false);
    }
  }, [store, savedName, setRevision, markSaved, adopt, mergeWithTheirs]);

  /** After a conflict: the document the person chose, node by node, saved on top of their revision. */
  const applyResolved = async (resolved: FlowDoc) => {
    if (!conflict?.theirs) return false;
    adopt(resolved, conflict.theirs);
    setConflict(null);
    // Taking theirs everywhere leaves nothing to save.
    if (store.get().doc === savedRef.current) {
      toast(`Took their version (revision ${conflict.theirs.revision})`);
      return true;
    }
    return save();
  };

  /** After a conflict: this edit saved over theirs (their revision stays in the history). */
  const overwrite = async () => {
    if (conflict?.current === undefined) return false;
    setRevision(conflict.current);
    setConflict(null);
    return save();
  };

  /** Loads the latest saved revision, discarding local edits. */
  const reload = async () => {
    const r = await api.getFlow(savedName);
    const d = withLayout(r.document);
    store.reset(d);
    markSaved(d);
    setRevision(r.revision);
    setConflict(null);
    toast(`Reloaded revision ${r.revision}`);
  };

  /** After a conflict the edit was saved as a new flow: open that one. */
  const savedAsCopy = (name: string) => {
    markSaved(store.get().doc);
    setConflict(null);
    setLeaveGuard(null);
    void navigate(flowHref(name), { force: true });
  };

  return {
    savedName,
    revision,
    revisionRef,
    dirty,
    saving,
    save,
    conflict,
    closeConflict: () => setConflict(null),
    reload,
    savedAsCopy,
    applyResolved,
    overwrite,
  };
}
export type FlowDocument = ReturnType<typeof useFlowDocument>;
