// The dialog after a save refused with 409 (someone else saved first): keep
// editing, reload their version, or save this edit as a new flow.
import { useState } from 'react';
import { ApiError, api } from '../../api';
import type { FlowDoc } from '../../types';
import { NAME_RE, cleanDoc } from '../../flow';
import { Modal, toast } from '../../ui';

export function ConflictDialog(props: { doc: FlowDoc; current?: number; onClose: () => void; onReload: () => Promise<void>; onSavedCopy: (name: string) => void }) {
  const [mode, setMode] = useState<'ask' | 'copy'>('ask');
  const [name, setName] = useState(`${props.doc.name}-copy`.slice(0, 64));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const saveCopy = async () => {
    setBusy(true);
    setError('');
    try {
      await api.createFlow(cleanDoc({ ...props.doc, name }));
      toast(`Saved your version as ${name}`);
      props.onSavedCopy(name);
    } catch (e) {
      const err = e as ApiError;
      setError(err.status === 409 ? `A flow named “${name}” already exists; choose another name.` : err.message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="Someone else saved this flow first"
      onClose={props.onClose}
      testId="conflict-dialog"
      footer={
        mode === 'ask' ? (
          <>
            <button onClick={props.onClose}>Keep editing</button>
            <button
              className="danger"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                try {
                  await props.onReload();
                } catch (e) {
                  setError((e as Error).message);
                  setBusy(false);
                }
              }}
            >
              Reload (discard mine)
            </button>
            <button className="primary" onClick={() => setMode('copy')}>
              Save as a copy…
            </button>
          </>
        ) : (
          <>
            <button onClick={() => setMode('ask')}>Back</button>
            <button className="primary" disabled={busy || !NAME_RE.test(name)} onClick={saveCopy} data-testid="save-copy">
              Save copy
            </button>
          </>
        )
      }
    >
      {mode === 'ask' ? (
        <p>
          While you were editing, this flow was saved by someone else{props.current ? ` (it is now at revision ${props.current})` : ''}. Your changes are not saved yet and
          nothing is lost: reload their version and discard yours, or save yours as a new flow.
        </p>
      ) : (
        <form
          className="form"
          onSubmit={(e) => {
            e.preventDefault();
            void saveCopy();
          }}
        >
          <label>
            Name of the copy
            <input autoFocus aria-label="Copy name" value={name} onChange={(e) => setName(e.target.value.toLowerCase())} className={NAME_RE.test(name) ? '' : 'invalid'} />
          </label>
          <p className="hint">The copy is a new flow with your changes. It has the same trigger path; only one of the two can be deployed at a time.</p>
        </form>
      )}
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}
