// The designer for one flow: palette, canvas, side panel (node form, test,
// publish), validation as you work, save with conflict handling.
// The hooks and parts live in ./page/; this file puts them together.
import { useMemo, useRef } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { useCatalog } from '../catalog';
import { triggerRoute } from '../flow';
import { navigate } from '../router';
import { editBlockReason, useUser } from '../auth';
import { RoleNote } from '../shell';
import { EditorStore, useEditor } from './store';
import { Palette } from './Palette';
import { useFlowDocument, useLoadedFlow, type Loaded } from './page/useFlowDocument';
import { useUnsavedChanges } from './page/useUnsavedChanges';
import { useLiveValidation } from './page/useLiveValidation';
import { useTestRuns } from './page/useTestRuns';
import { useExprContext } from './page/useExprContext';
import { useEditorNavigation } from './page/useEditorNavigation';
import { useAddNode } from './page/useAddNode';
import { useClipboard } from './page/useClipboard';
import { useKeyboardShortcuts } from './page/useKeyboardShortcuts';
import { EditorTopbar } from './page/EditorTopbar';
import { CanvasColumn } from './page/CanvasColumn';
import { SidePanel } from './page/SidePanel';
import { ConflictDialog } from './page/ConflictDialog';
import { LeaveDialog } from './page/LeaveDialog';

export function EditorPage({ name }: { name: string }) {
  const { loaded, error } = useLoadedFlow(name);
  if (error)
    return (
      <div className="fatal">
        <p>{error}</p>
        <button onClick={() => void navigate('#/')}>Back to flows</button>
      </div>
    );
  if (!loaded) return <div className="loading">Loading {name}…</div>;
  return (
    <ReactFlowProvider>
      <Editor initial={loaded} />
    </ReactFlowProvider>
  );
}

function Editor({ initial }: { initial: Loaded }) {
  const { byType, specs, info } = useCatalog();
  // A viewer sees the flow read-only: no palette, no dragging or connecting,
  // forms disabled, and the buttons that would change something say why.
  const blocked = editBlockReason(useUser());
  const readOnly = !!blocked;
  const store = useMemo(() => new EditorStore(initial.doc), [initial]);
  const doc = useEditor(store, (s) => s.doc);
  const selectedNodes = useEditor(store, (s) => s.selectedNodes);
  const selectedEdges = useEditor(store, (s) => s.selectedEdges);
  const canvasRef = useRef<HTMLDivElement>(null);
  const route = triggerRoute(doc);

  // Saving (with revision conflicts) and asking before leaving unsaved changes.
  const flowDoc = useFlowDocument(store, initial, doc);
  const { dirty, save, conflict } = flowDoc;
  const { leavePrompt, closeLeavePrompt } = useUnsavedChanges(doc.name, dirty);

  // Problems as you work; test runs and what expression completion knows.
  const testRuns = useTestRuns(flowDoc.savedName, initial.doc, store);
  const validation = useLiveValidation(doc, testRuns.testResult);
  useExprContext(doc, testRuns.testResult, testRuns.testEnv, route.path, validation.types, selectedNodes.length === 1 ? selectedNodes[0] : undefined);

  // The side tab, going to nodes and problems, adding nodes, shortcuts.
  const nav = useEditorNavigation(store, selectedNodes);
  const { onPaletteDrop, onPaletteAdd } = useAddNode(store, byType, canvasRef, nav.setTab);
  const clipboard = useClipboard(store);
  useKeyboardShortcuts(store, readOnly, save, clipboard);

  return (
    <div className="page editor-page">
      <EditorTopbar store={store} doc={doc} route={route} dirty={dirty} saving={flowDoc.saving} revision={flowDoc.revision} blocked={blocked} save={save} />
      <RoleNote reason={blocked && `Read-only. ${blocked}`} id="editor-role-note" className="role-strip" testId="editor-read-only" />
      <div className="editor-body">
        {!readOnly && <Palette specs={specs} onDrop={onPaletteDrop} onAdd={onPaletteAdd} />}
        <CanvasColumn
          canvasRef={canvasRef}
          store={store}
          doc={doc}
          byType={byType}
          validation={validation}
          run={testRuns.run}
          pinned={testRuns.pinned}
          initialFit={initial.doc.nodes.length > 1}
          onNodeClick={() => nav.setTab('node')}
          onClearRun={() => testRuns.setTestResult(null)}
          onPickProblem={nav.pickProblem}
          readOnly={readOnly}
        />
        <SidePanel
          store={store}
          doc={doc}
          selectedNodes={selectedNodes}
          selectedEdges={selectedEdges}
          route={route}
          byType={byType}
          info={info}
          blocked={blocked}
          flowDoc={flowDoc}
          nav={nav}
          validation={validation}
          testRuns={testRuns}
        />
      </div>
      {conflict && (
        <ConflictDialog
          doc={doc}
          conflict={conflict}
          onClose={flowDoc.closeConflict}
          onReload={flowDoc.reload}
          onSavedCopy={flowDoc.savedAsCopy}
          onApply={flowDoc.applyResolved}
          onOverwrite={flowDoc.overwrite}
        />
      )}
      {leavePrompt && <LeaveDialog flowName={doc.name} prompt={leavePrompt} onDone={closeLeavePrompt} save={save} />}
    </div>
  );
}
