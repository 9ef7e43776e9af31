// What a deployment runs with, as the server shows it back: secret values and
// datasource URLs are never returned, so only their names are listed.
import type { Deployment } from '../../types';

/** What a deployment runs with: variables as they are, secrets and datasources by name only, the egress allow-list. */
export function DeploymentConfig({ d }: { d: Deployment }) {
  const env = Object.entries(d.env ?? {});
  const secrets = Object.keys(d.secrets ?? {});
  const ds = Object.keys(d.datasources ?? {});
  const allow = d.egress?.allow ?? [];
  return (
    <dl className="dep-config" data-testid="deployment-config">
      {env.length > 0 && (
        <>
          <dt>Variables</dt>
          <dd data-testid="dep-env">
            {env.map(([k, v]) => (
              <code key={k}>
                {k}={v}
              </code>
            ))}
          </dd>
        </>
      )}
      {secrets.length > 0 && (
        <>
          <dt>Secrets</dt>
          <dd data-testid="dep-secrets">
            {secrets.map((k) => (
              <span key={k} className="set-name">
                <code>{k}</code>: set
              </span>
            ))}
          </dd>
        </>
      )}
      {ds.length > 0 && (
        <>
          <dt>Datasources</dt>
          <dd data-testid="dep-datasources">
            {ds.map((k) => (
              <span key={k} className="set-name">
                <code>{k}</code>: set
              </span>
            ))}
          </dd>
        </>
      )}
      <dt>Internal addresses</dt>
      <dd data-testid="dep-egress">{allow.length ? allow.map((a) => <code key={a}>{a}</code>) : <span className="muted">none (public addresses only)</span>}</dd>
    </dl>
  );
}
