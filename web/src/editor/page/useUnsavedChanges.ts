// Unsaved changes show in the tab title (•), and leaving asks first: the
// browser's prompt on unload, the editor's own dialog on in-app navigation.
import { useEffect, useState } from 'react';
import { setLeaveGuard } from '../../router';

/** A pending question "leave without saving?"; resolve(true) lets the navigation go on. */
export interface LeavePrompt {
  resolve: (ok: boolean) => void;
}

export function useUnsavedChanges(flowName: string, dirty: boolean) {
  const [leavePrompt, setLeavePrompt] = useState<LeavePrompt | null>(null);

  useEffect(() => {
    document.title = `${flowName}${dirty ? ' •' : ''} · Flowline`;
  }, [flowName, dirty]);

  // Unsaved changes: ask before leaving.
  useEffect(() => {
    if (!dirty) return;
    const onBU = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBU);
    const remove = setLeaveGuard(() => new Promise<boolean>((resolve) => setLeavePrompt({ resolve })));
    return () => {
      window.removeEventListener('beforeunload', onBU);
      remove();
    };
  }, [dirty]);

  return { leavePrompt, closeLeavePrompt: () => setLeavePrompt(null) };
}
