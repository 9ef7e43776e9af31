// The Versions section: every published version, which one is deployed, and
// a button to deploy any of them (a rollback when another one runs).
import type { Deployment, Version } from '../../types';
import { timeAgo } from '../../ui';
import { why } from '../../shell';

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
              const live = deployments.find((d) => d.version === v.version);
              return (
                <tr key={v.version} data-version={v.version}>
                  <td data-testid="version-label">
                    <strong>v{v.version}</strong> · {v.target}
                    {v.revision ? ` · from revision ${v.revision}` : ''}
                  </td>
                  <td className="muted" title={v.created_at}>
                    {timeAgo(v.created_at)}
                  </td>
                  <td className="actions">
                    {live ? <span className="pill st-running">deployed</span> : null}
                    <button className="small" onClick={() => props.onDeploy(v.version)} disabled={!!blocked} {...because}>
                      {deployments.length && !live ? 'Deploy this version (rollback)' : 'Deploy…'}
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
