// The dialog shown when leaving the editor with unsaved changes: stay, leave
// without saving, or save and leave.
import { Modal } from '../../ui';
import type { LeavePrompt } from './useUnsavedChanges';

export function LeaveDialog(props: { flowName: string; prompt: LeavePrompt; onDone: () => void; save: () => Promise<boolean> }) {
  const { prompt } = props;
  return (
    <Modal
      title="Unsaved changes"
      onClose={() => {
        prompt.resolve(false);
        props.onDone();
      }}
      footer={
        <>
          <button
            onClick={() => {
              prompt.resolve(false);
              props.onDone();
            }}
          >
            Stay
          </button>
          <button
            className="danger"
            onClick={() => {
              prompt.resolve(true);
              props.onDone();
            }}
          >
            Leave without saving
          </button>
          <button
            className="primary"
            onClick={async () => {
              const ok = await props.save();
              prompt.resolve(ok);
              props.onDone();
            }}
          >
            Save and leave
          </button>
        </>
      }
    >
      <p>“{props.flowName}” has changes that are not saved. Leaving now loses them.</p>
    </Modal>
  );
}
