// Publish (JS or Go), the versions, deploying (with rollback), the
// deployments' status and a live log view. A deploy sends plain variables,
// secrets, datasources and the egress allow-list; the server never shows
// secret values or datasource URLs back, so each deploy enters them again.
// The parts live in ./publish/; this file puts them together.
import { useState } from 'react';
import type { Info, Problem } from '../types';
import { usePublishData } from './publish/usePublishData';
import { usePublish } from './publish/usePublish';
import { PublishForm } from './publish/PublishForm';
import { DeploymentsList } from './publish/DeploymentsList';
import { VersionsTable } from './publish/VersionsTable';
import { PublishStatus } from './publish/PublishStatus';
import { countProblems } from '../problems';
import { isActive } from '../drift';
import { DeployDialog } from './publish/DeployDialog';

export { LogsView } from './publish/LogsView';

interface Props {
  flowName: string;
  dirty: boolean;
  /** The name was changed and not saved yet: saving moves the flow. */
  renaming: boolean;
  save: () => Promise<boolean>;
  /** The saved revision the editor is at (read after save, so Save & publish gets the new one). */
  revision: () => number;
  /** Loads the latest saved revision into the editor (after a publish conflict). */
  onReload: () => Promise<void>;
  route: { method: string; path: string };
  info: Info | null;
  onPickProblem: (p: Problem) => void;
  onProblems: (p: Problem[]) => void;
  /** The problems validation reports as you work: errors keep Publish disabled. */
  problems: Problem[];
  /** The saved revision, for what is published and what is not (rendered, unlike revision()). */
  savedRevision: number;
  sampleBody?: string;
  /** Why this user may not publish or deploy (a viewer), or ''. */
  blocked?: string;
}

export function PublishPanel(props: Props) {
  const { flowName } = props;
  const blocked = props.blocked ?? '';
  const [error, setError] = useState('');
  const [deployFor, setDeployFor] = useState<number | null>(null);
  const { versions, deployments, access, loadVersions, loadDeployments } = usePublishData(flowName, setError);
  const pub = usePublish({
    flowName,
    info: props.info,
    dirty: props.dirty,
    save: props.save,
    revision: props.revision,
    onReload: props.onReload,
    onProblems: props.onProblems,
    onPublished: loadVersions,
    setError,
  });

  const gateway = props.info?.gateway_url ?? '';
  const liveURL = gateway ? gateway.replace(/\/$/, '') + props.route.path : '';
  return (
    <div className="publish-panel" data-testid="publish-panel">
      <PublishStatus revision={props.savedRevision} versions={versions} deployments={deployments} dirty={props.dirty} />
      <PublishForm
        pub={pub}
        dirty={props.dirty}
        renaming={props.renaming}
        blocked={blocked}
        errors={countProblems(props.problems).errors}
        error={error}
        onPickProblem={props.onPickProblem}
        onDeploy={setDeployFor}
        deployed={(v) => deployments.some((d) => d.version === v && isActive(d.status))}
      />
      <DeploymentsList
        hasVersions={!!versions?.length}
        deployments={deployments}
        liveURL={liveURL}
        method={props.route.method}
        sampleBody={props.sampleBody}
        onStopped={loadDeployments}
        blocked={blocked}
        requireKey={!!access?.require_key}
      />
      <VersionsTable versions={versions} deployments={deployments} blocked={blocked} onDeploy={setDeployFor} />
      {deployFor !== null && versions && (
        <DeployDialog
          flowName={flowName}
          versions={versions}
          initialVersion={deployFor}
          info={props.info}
          current={deployments[0]}
          onClose={() => setDeployFor(null)}
          onDeployed={() => {
            setDeployFor(null);
            void loadDeployments();
          }}
          liveURL={liveURL}
        />
      )}
    </div>
  );
}
