// Publishing the saved flow as a version (JS or Go): the chosen target
// (remembered per flow), progress, problems, build log and revision conflicts.
import { useEffect, useState } from 'react';
import { ApiError, api } from '../../api';
import type { Info, Problem, Version } from '../../types';
import { toast, useElapsed } from '../../ui';
import { isError } from '../../problems';
import { bundleTargets, chooseTarget, rememberTarget, rememberedTarget } from '../../targets';

/** A publish refused because the flow was saved since the editor loaded it. */
export interface PublishConflict {
  mine: number;
  current?: number;
  message: string;
}

export interface PublishOptions {
  flowName: string;
  info: Info | null;
  dirty: boolean;
  save: () => Promise<boolean>;
  /** The saved revision the editor is at (read after save, so Save & publish gets the new one). */
  revision: () => number;
  /** Loads the latest saved revision into the editor (after a publish conflict). */
  onReload: () => Promise<void>;
  onProblems: (p: Problem[]) => void;
  /** Called after a version was published, to list it. */
  onPublished: () => Promise<void>;
  /** The panel's error banner (shared with loading the versions). */
  setError: (message: string) => void;
}

export function usePublish(opts: PublishOptions) {
  const { flowName, setError } = opts;
  const targets = bundleTargets(opts.info);
  // Remembered per flow (else the last choice anywhere): this panel is
  // unmounted whenever another tab shows, and the page may be reloaded.
  const [remembered, setRemembered] = useState(() => rememberedTarget(flowName));
  // Saving under a new name moves the flow: take that name's choice.
  useEffect(() => setRemembered(rememberedTarget(flowName)), [flowName]);
  const target = chooseTarget(remembered, targets);
  const pickTarget = (t: string) => {
    setRemembered(t);
    rememberTarget(flowName, t);
  };
  const [busy, setBusy] = useState(false);
  const elapsed = useElapsed(busy);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [conflict, setConflict] = useState<PublishConflict | null>(null);
  const [reloading, setReloading] = useState(false);
  const [buildLog, setBuildLog] = useState('');
  const [published, setPublished] = useState<Version | null>(null);

  const publish = async () => {
    setError('');
    setProblems([]);
    setBuildLog('');
    setPublished(null);
    setConflict(null);
    if (opts.dirty && !(await opts.save())) {
      setError('Save the flow first: publishing uses the saved draft.');
      return;
    }
    // Read after the save: Save & publish publishes the revision it just saved.
    const revision = opts.revision();
    setBusy(true);
    try {
      const v = await api.publish(flowName, target, revision);
      setPublished(v);
      toast(`Published version ${v.version} (${v.target})`);
      await opts.onPublished();
    } catch (e) {
      const err = e as ApiError;
      const ps = err.problems();
      if (err.status === 409) {
        // Saved elsewhere since this editor loaded it: publishing now would
        // publish something nobody here has seen, so nothing was published.
        const cur = err.body?.current_revision ?? err.body?.revision;
        setConflict({ mine: revision, current: typeof cur === 'number' ? cur : undefined, message: err.message });
      } else if (err.status === 422 && ps.some(isError)) {
        setProblems(ps);
        opts.onProblems(ps);
        setError('The flow has problems; publishing needs a valid flow.');
      } else setError(err.message);
      const log = err.body?.build_log;
      if (typeof log === 'string' && log) setBuildLog(log);
    } finally {
      setBusy(false);
    }
  };

  // After a conflict: load the latest revision into the editor.
  const reloadLatest = async () => {
    setReloading(true);
    try {
      await opts.onReload();
      setConflict(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setReloading(false);
    }
  };

  return { targets, target, pickTarget, busy, elapsed, problems, conflict, reloading, reloadLatest, buildLog, published, publish };
}

export type PublishState = ReturnType<typeof usePublish>;
