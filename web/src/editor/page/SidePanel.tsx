// The side panel of the editor and its tabs: the node's form or the flow's
// overview, Test, Publish and Access.
import type { FlowDoc, Info, Pin, Spec } from '../../types';
import { ReadOnlyContext } from '../../cm/CodeEditor';
import type { EditorStore } from '../store';
import { NodePanel } from '../NodePanel';
import { TestPanel } from '../TestPanel';
import { PublishPanel } from '../PublishPanel';
import { AccessPanel } from '../AccessPanel';
import { FlowOverview } from './FlowOverview';
import type { FlowDocument } from './useFlowDocument';
import type { Navigation } from './useEditorNavigation';
import type { TestRuns } from './useTestRuns';
import type { Validation } from './useLiveValidation';

function withPin(pins: Record<string, Pin>, id: string, p: Pin | null): Record<string, Pin> {
  const next = { ...pins };
  if (p) next[id] = p;
  else delete next[id];
  return next;
}

export function SidePanel(props: {
  store: EditorStore;
  doc: FlowDoc;
  selectedNodes: string[];
  selectedEdges: string[];
  route: { method: string; path: string };
  byType: Map<string, Spec>;
  info: Info | null;
  /** Why this user may not edit (a viewer), or ''. */
  blocked: string;
  flowDoc: FlowDocument;
  nav: Navigation;
  validation: Validation;
  testRuns: TestRuns;
}) {
  const { store, doc, selectedNodes, selectedEdges, route, byType, info, blocked } = props;
  const readOnly = !!blocked;
  const { savedName, dirty, save, revisionRef, reload } = props.flowDoc;
  const { tab, setTab, pickNode, pickProblem } = props.nav;
  const { problems, setProblems, byNode } = props.validation;
  const { testResult, setTestResult, docForRun, run, stale, draft, setDraft, testEnv, setTestEnv, allowEgress } = props.testRuns;
  const selectedNode = selectedNodes.length === 1 ? doc.nodes.find((n) => n.id === selectedNodes[0]) : undefined;
  return (
    <aside className="side">
      <div className="tabs" role="tablist">
        <button role="tab" aria-selected={tab === 'node'} className={tab === 'node' ? 'active' : ''} onClick={() => setTab('node')}>
          {selectedNode ? 'Node' : 'Flow'}
        </button>
        <button role="tab" aria-selected={tab === 'test'} className={tab === 'test' ? 'active' : ''} onClick={() => setTab('test')}>
          Test
        </button>
        <button role="tab" aria-selected={tab === 'publish'} className={tab === 'publish' ? 'active' : ''} onClick={() => setTab('publish')}>
          Publish
        </button>
        <button role="tab" aria-selected={tab === 'access'} className={tab === 'access' ? 'active' : ''} onClick={() => setTab('access')}>
          Access
        </button>
      </div>
      <div className="side-body">
        {tab === 'node' && selectedNode && (
          <ReadOnlyContext.Provider value={readOnly}>
            {/* A disabled fieldset disables every input and button of the form at once. */}
            <fieldset className="plain" disabled={readOnly}>
              <NodePanel
                key={selectedNode.id}
                store={store}
                node={selectedNode}
                spec={byType.get(selectedNode.type)}
                problems={byNode.get(selectedNode.id) ?? []}
                span={run?.spans.get(selectedNode.id)}
                ran={!!run?.nodes.has(selectedNode.id)}
                logs={(testResult?.trace.logs ?? []).filter((l) => l.node === selectedNode.id)}
                onRenamed={() => undefined}
                egressAllowed={testEnv.egress}
                onAllowEgress={readOnly ? undefined : allowEgress}
                pin={testEnv.pins[selectedNode.id]}
                onPin={readOnly ? undefined : (p) => setTestEnv((e) => ({ ...e, pins: withPin(e.pins, selectedNode.id, p) }))}
              />
            </fieldset>
          </ReadOnlyContext.Provider>
        )}
        {tab === 'node' && !selectedNode && (
          <FlowOverview
            store={store}
            doc={doc}
            selectedCount={selectedNodes.length}
            selectedEdges={selectedEdges}
            problems={problems.filter((p) => !p.node)}
            onPick={pickNode}
            readOnly={readOnly}
          />
        )}
        <div hidden={tab !== 'test'}>
          <TestPanel
            flowName={savedName}
            getDoc={docForRun}
            route={route}
            result={testResult}
            stale={stale}
            onResult={setTestResult}
            onPickNode={pickNode}
            onProblems={setProblems}
            onPickProblem={pickProblem}
            env={testEnv}
            onEnvChange={setTestEnv}
            onAllowEgress={allowEgress}
            draft={draft}
            setDraft={setDraft}
            blocked={blocked}
          />
        </div>
        {tab === 'publish' && (
          <PublishPanel
            flowName={savedName}
            dirty={dirty}
            renaming={doc.name !== savedName}
            save={save}
            revision={() => revisionRef.current}
            onReload={reload}
            route={route}
            info={info}
            onPickProblem={pickProblem}
            onProblems={setProblems}
            problems={problems}
            savedRevision={props.flowDoc.revision}
            sampleBody={draft.body}
            blocked={blocked}
          />
        )}
        {tab === 'access' && <AccessPanel flowName={savedName} route={route} info={info} sampleBody={draft.body} blocked={blocked} />}
      </div>
    </aside>
  );
}
