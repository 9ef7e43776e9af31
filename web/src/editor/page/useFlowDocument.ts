// Loading a flow and saving it: the revision the editor is at, unsaved
// changes, Save with If-Match (a 409 opens the conflict dialog), reload.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../../api';
import type { FlowDoc } from '../../types';
import { NAME_RE, cleanDoc } from '../../flow';
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
  const [conflict, setConflict] = useState<{ current?: number } | null>(null);

  // Save, with 409 handling.
  const savedRef = useRef(savedDoc);
  savedRef.current = savedDoc;
  const save = useCallback(async (): Promise<boolean> => {
    const sending = store.get().doc;
    if (sending === savedRef.current) return true;
    const body = cleanDoc(sending);
    if (!NAME_RE.test(body.name)) {
      toast('The flow name must be 1-64 characters of a-z, 0-9 and -.', 'error');
      return false;
    }
    setSaving(true);
    try {
      const r = await api.saveFlow(savedName, revision, body);
      setRevision(r.revision);
      setSavedDoc(sending);
      if (r.name !== savedName) {
        toast(`Saved and renamed to ${r.name}`);
        setLeaveGuard(null);
        void navigate(flowHref(r.name), { force: true, replace: true });
      } else toast(`Saved (revision ${r.revision})`);
      return true;
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 409) {
        const cur = err.body?.current_revision;
        setConflict({ current: typeof cur === 'number' ? cur : undefined });
      } else {
        const ps = err.problems();
        toast(`Save failed: ${err.message}${ps.length ? ': ' + ps.map((p) => p.message).join('; ') : ''}`, 'error');
      }
      return false;
    } finally {
      setSaving(false);
    }
  }, [store, savedName, revision, setRevision]);

  /** Loads the latest saved revision, discarding local edits. */
  const reload = async () => {
    const r = await api.getFlow(savedName);
    const d = withLayout(r.document);
    store.reset(d);
    setSavedDoc(d);
    setRevision(r.revision);
    setConflict(null);
    toast(`Reloaded revision ${r.revision}`);
  };

  /** After a conflict the edit was saved as a new flow: open that one. */
  const savedAsCopy = (name: string) => {
    setSavedDoc(store.get().doc);
    setConflict(null);
    setLeaveGuard(null);
    void navigate(flowHref(name), { force: true });
  };

  return { savedName, revision, revisionRef, dirty, saving, save, conflict, closeConflict: () => setConflict(null), reload, savedAsCopy };
}
export type FlowDocument = ReturnType<typeof useFlowDocument>;
