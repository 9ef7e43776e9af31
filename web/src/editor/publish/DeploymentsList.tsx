// The Deployments section: one card per deployment of the flow, with at most
// one log view open at a time.
import { useState } from 'react';
import type { Deployment } from '../../types';
import { DeploymentCard } from './DeploymentCard';

export function DeploymentsList(props: {
  /** Whether a version exists to deploy: what the empty list suggests. */
  hasVersions: boolean;
  deployments: Deployment[];
  liveURL: string;
  method: string;
  sampleBody?: string;
  onStopped: () => void;
  blocked: string;
  requireKey: boolean;
}) {
  const [logsFor, setLogsFor] = useState<string | null>(null);
  return (
    <section>
      <h3>Deployments</h3>
      {props.deployments.length === 0 && (
        <p className="muted" data-testid="no-deployments">
          {props.hasVersions ? 'Not deployed. Deploy a version from Versions below.' : 'Not deployed. Publish a version, then deploy it.'}
        </p>
      )}
      {props.deployments.map((d) => (
        <DeploymentCard
          key={d.id}
          d={d}
          liveURL={props.liveURL}
          method={props.method}
          body={props.sampleBody}
          onLogs={() => setLogsFor(logsFor === d.id ? null : d.id)}
          logsOpen={logsFor === d.id}
          onStopped={props.onStopped}
          blocked={props.blocked}
          requireKey={props.requireKey}
        />
      ))}
    </section>
  );
}
