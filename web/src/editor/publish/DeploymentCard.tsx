// One deployment: its status (polled), live URL with a curl example, what it
// runs with, its instances, Stop, and the log view when opened.
import { useEffect, useState } from 'react';
import { api } from '../../api';
import type { Deployment } from '../../types';
import { CopyButton, copyText, toast } from '../../ui';
import { deploymentName, instanceLabel, shortId } from '../../drift';
import { API_KEY_PLACEHOLDER, curlFor } from '../../endpoint';
import { why } from '../../shell';
import { DeploymentConfig } from './DeploymentConfig';
import { LogsView } from './LogsView';

export function DeploymentCard(props: {
  d: Deployment;
  liveURL: string;
  method: string;
  body?: string;
  onLogs: () => void;
  logsOpen: boolean;
  onStopped: () => void;
  blocked: string;
  /** Callers need an API key: the example sends the X-API-Key header. */
  requireKey: boolean;
}) {
  const { d } = props;
  const [full, setFull] = useState<Deployment | null>(null);
  const [stopping, setStopping] = useState(false);
  useEffect(() => {
    let alive = true;
    const tick = async () => {
      try {
        const x = await api.deployment(d.id);
        if (alive) setFull(x);
      } catch {
        /* gone or unreachable: the list refresh will tell */
      }
    };
    void tick();
    const h = setInterval(tick, 2000);
    return () => {
      alive = false;
      clearInterval(h);
    };
  }, [d.id]);
  const x = full ?? d;
  const url = props.liveURL;
  const curl = curlFor(props.method, url, props.body, props.requireKey ? API_KEY_PLACEHOLDER : undefined);
  return (
    <div className="deployment" data-testid="deployment" data-status={x.status}>
      <div className="dep-head">
        <span className={`pill st-${x.status}`}>{x.status}</span>
        <strong data-testid="deployment-name">{deploymentName(x)}</strong>
        <ShortId id={x.id} />
        <span className="spacer" />
        <button className="small" onClick={props.onLogs}>
          {props.logsOpen ? 'Hide logs' : 'Logs'}
        </button>
        <button
          className="small danger"
          disabled={stopping || !!props.blocked}
          {...why(props.blocked, 'publish-role-note')}
          onClick={async () => {
            setStopping(true);
            try {
              await api.undeploy(d.id);
              toast('Deployment stopped');
              props.onStopped();
            } catch (e) {
              toast((e as Error).message, 'error');
            } finally {
              setStopping(false);
            }
          }}
        >
          Stop
        </button>
      </div>
      {x.message && <p className="muted small-text">{x.message}</p>}
      {url && (
        <div className="live-url">
          <span className="muted">Live URL</span>{' '}
          <a href={url} target="_blank" rel="noreferrer" data-testid="live-url">
            {url}
          </a>
          <pre className="curl" data-testid="curl">
            {curl}
          </pre>
          <CopyButton text={curl} label="Copy curl" />
          {props.requireKey && (
            <p className="hint" data-testid="key-required">
              Callers need an API key in the X-API-Key header; make one in the Access tab.
            </p>
          )}
        </div>
      )}
      <DeploymentConfig d={x} />
      {x.scaling && (
        <p className="muted small-text">
          scaling {x.scaling.min ?? 1}–{x.scaling.max ?? 1} instances
        </p>
      )}
      {(x.instances?.length ?? 0) > 0 && (
        <table className="instances">
          <thead>
            <tr>
              <th>instance</th>
              <th>address</th>
              <th>state</th>
              <th>restarts</th>
            </tr>
          </thead>
          <tbody>
            {x.instances!.map((i) => (
              <tr key={i.id}>
                <td title={i.id}>{instanceLabel(i.id, x.id)}</td>
                <td>{i.addr}</td>
                <td>
                  <span className={`pill st-${i.state}`}>{i.state}</span>
                </td>
                <td>{i.restarts ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.logsOpen && <LogsView id={d.id} />}
    </div>
  );
}

/** The deployment's id, short; the full one is in the title and is what a click copies. */
function ShortId({ id }: { id: string }) {
  return (
    <button
      className="link short-id"
      title={`Deployment id ${id}; click to copy it`}
      data-testid="deployment-id"
      onClick={async () => toast((await copyText(id)) ? 'Deployment id copied' : `Deployment id: ${id}`)}
    >
      id {shortId(id)}
    </button>
  );
}
