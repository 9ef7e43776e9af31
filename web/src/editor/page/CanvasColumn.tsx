// The middle of the editor: the canvas (with the first-steps hint and the
// legend of the last test run, which says when the run is stale) above the
// problems panel.
import { useState, type RefObject } from 'react';
import type { FlowDoc, Problem, Spec } from '../../types';
import { Canvas, type RunView } from '../Canvas';
import type { EditorStore } from '../store';
import { ProblemsPanel } from '../ProblemsPanel';
import type { Validation } from './useLiveValidation';

export function CanvasColumn(props: {
  canvasRef: RefObject<HTMLDivElement | null>;
  store: EditorStore;
  doc: FlowDoc;
  byType: Map<string, Spec>;
  validation: Validation;
  run: RunView | null;
  pinned: ReadonlySet<string>;
  /** Fit the view at start (more than one node). */
  initialFit: boolean;
  onNodeClick: () => void;
  onClearRun: () => void;
  onPickProblem: (p: Problem) => void;
  readOnly: boolean;
}) {
  const { canvasRef, store, doc, byType, run, readOnly } = props;
  const { problems, byNode, checking, validated, valError } = props.validation;
  const [problemsOpen, setProblemsOpen] = useState(true);
  return (
    <div className="canvas-col">
      <div className="canvas-wrap" ref={canvasRef} data-testid="canvas">
        <Canvas store={store} byType={byType} problems={byNode} run={run} pinned={props.pinned} initialFit={props.initialFit} onNodeClick={props.onNodeClick} readOnly={readOnly} />
        {doc.nodes.length <= 1 && !readOnly && (
          <div className="canvas-hint" aria-hidden="true">
            Drag nodes from the palette on the left, then connect a node's port (right side) to the next node (left side).
          </div>
        )}
        {run && (
          <div className={`run-legend${run.stale ? ' stale' : ''}`} data-testid="run-legend" data-stale={run.stale ? 'true' : 'false'}>
            {run.stale && (
              <strong className="stale-label" title="Nodes, their settings or connections changed after this test run: its results may no longer hold. Run the test again.">
                stale
              </strong>
            )}
            <span className="lg ok" /> ran <span className="lg failed" /> failed <span className="lg skipped" /> skipped
            <button className="link small-text" onClick={props.onClearRun}>
              clear
            </button>
          </div>
        )}
      </div>
      <ProblemsPanel problems={problems} checking={checking} validated={validated} open={problemsOpen} onToggle={() => setProblemsOpen((o) => !o)} onPick={props.onPickProblem} error={valError} />
    </div>
  );
}
