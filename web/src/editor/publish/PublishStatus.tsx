// The top of the Publish tab: whether the saved flow is published and
// whether its newest version runs, said in words, not only in pills.
import type { Deployment, Version } from '../../types';
import { driftBadges, flowDrift } from '../../drift';
import { DriftBadges } from './DriftBadges';

export function PublishStatus(props: { revision: number; versions: Version[] | null; deployments: Deployment[]; dirty: boolean }) {
  const { versions } = props;
  if (versions === null) return null;
  const latest = versions.reduce<Version | null>((a, v) => (!a || v.version > a.version ? v : a), null);
  const badges = driftBadges(flowDrift(props.revision, latest, props.deployments), props.revision);
  return (
    <div className="publish-status" data-testid="publish-status" role="status">
      {latest ? <DriftBadges badges={badges} /> : <span className="pill draft">not published yet</span>}
      {badges
        .filter((b) => b.kind !== 'live')
        .map((b) => (
          <p key={b.kind} className="hint">
            {b.detail}
          </p>
        ))}
      {props.dirty && <p className="hint">Unsaved changes are in no version yet: Save & publish saves them first.</p>}
    </div>
  );
}
