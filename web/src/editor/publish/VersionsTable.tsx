// The Versions section: every published version with the flow revision it
// was built from, which one is deployed, and its action: deploy a newer
// version, roll back to an older one, or redeploy the deployed one.
import type { Deployment, Version } from '../../types';
import { timeAgo } from '../../ui';
import { why } from '../../shell';
import { deployAction, isActive } from '../../drift';

export function VersionsTable(props: { versions: Version[] | null; deployments: Deployment[]; blocked: string; onDeploy: (version: number) => void }) {
  const { versions, deployments, blocked } = props;
  const because = why(blocked, 'publish-role-note');
  return (
    <section>
      <h3>Versions</h3>
      {versions === null && <p className="muted">Loading…</p>}
      {versions?.length === 0 && <p className="muted">No versions yet.</p>}
      {versions && versions.length > 0 && (
        <table className="versions">
          <tbody>
            {versions.map((v) => {
              const action = deployAction(v.version, deployments);
              const failed = action.kind !== 'deployed' && deployments.some((d) => d.version === v.version && !isActive(d.status));
              return (
                <tr key={v.version} data-version={v.version} data-action={action.kind}>
                  <td data-testid="version-label">
                    <strong>v{v.version}</strong> · {v.target}
                    {v.revision ? ` · from revision ${v.revision}` : ''}
                  </td>
                  <td className="muted" title={v.created_at}>
                    {timeAgo(v.created_at)}
                  </td>
                  <td className="actions">
                    {action.kind === 'deployed' && (
                      <span className="pill st-running" data-testid="version-deployed">
                        deployed
                      </span>
                    )}
                    {failed && <span className="pill st-failed">failed</span>}
                    <button
                      className="small"
                      onClick={() => props.onDeploy(v.version)}
                      disabled={!!blocked}
                      title={action.kind === 'deployed' ? `v${v.version} is deployed: deploy it again, with new settings` : undefined}
                      {...because}
                    >
                      {action.label}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
