// The deploy dialog: version, target, scaling, deadline, variables, secrets,
// datasources and the egress allow-list; secrets are typed again on each deploy.
import { useState } from 'react';
import { ApiError, api } from '../../api';
import type { Deployment, Info, Version } from '../../types';
import { ListEditor, Modal, PairsEditor, Spinner, filledPairs, objectToPairs, pairsToObject, timeAgo, toast, useElapsed, type Pair } from '../../ui';
import { allowEntryProblem, allowListProblem, cleanAllowList, variablesProblem } from '../../endpoint';
import { EgressHint } from '../TestPanel';

export function DeployDialog(props: {
  flowName: string;
  versions: Version[];
  initialVersion: number;
  info: Info | null;
  current?: Deployment;
  onClose: () => void;
  onDeployed: (d: Deployment) => void;
  liveURL: string;
}) {
  const cur = props.current;
  const [version, setVersion] = useState(props.initialVersion);
  const [target, setTarget] = useState(cur?.target ?? 'local');
  const [env, setEnv] = useState<Pair[]>(objectToPairs(cur?.env));
  // Secrets and datasource URLs never come back from the server: the names
  // the current deployment has are offered again, the values are typed again.
  const setSecrets = Object.keys(cur?.secrets ?? {});
  const setDatasources = Object.keys(cur?.datasources ?? {});
  const [secrets, setSecretPairs] = useState<Pair[]>(setSecrets.map((key) => ({ key, value: '' })));
  const [ds, setDs] = useState<Pair[]>(setDatasources.map((key) => ({ key, value: '' })));
  const [allow, setAllow] = useState<string[]>(cur?.egress?.allow ?? []);
  const [min, setMin] = useState(String(cur?.scaling?.min ?? 1));
  const [max, setMax] = useState(String(cur?.scaling?.max ?? 1));
  const [deadline, setDeadline] = useState(cur?.deadline ?? '30s');
  const [busy, setBusy] = useState(false);
  const elapsed = useElapsed(busy);
  const [error, setError] = useState('');
  const targets = props.info?.targets ?? ['local'];
  const minN = Number(min);
  const maxN = Number(max);
  const scaleBad = !Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 0 || maxN < 1 || minN > maxN;
  const deadlineBad = !/^\d+(\.\d+)?(ms|s|m|h)$/.test(deadline.trim());
  const varsProblem = variablesProblem(
    env.map((p) => p.key),
    secrets.map((p) => p.key),
  );
  const allowProblem = allowListProblem(allow);
  // Named but left empty: not sent, so the new deployment goes without them.
  const unfilled = [
    ...secrets.filter((p) => p.key.trim() && !p.value).map((p) => `${p.key.trim()} (secret)`),
    ...ds.filter((p) => p.key.trim() && !p.value).map((p) => `${p.key.trim()} (datasource)`),
  ];
  const submit = async () => {
    setBusy(true);
    setError('');
    try {
      const d = await api.deploy(props.flowName, {
        version,
        target,
        env: pairsToObject(env),
        secrets: filledPairs(secrets),
        datasources: filledPairs(ds),
        scaling: { min: minN, max: maxN },
        deadline: deadline.trim(),
        egress: { allow: cleanAllowList(allow) },
      });
      toast(`Deploying v${version}`);
      props.onDeployed(d);
    } catch (e) {
      const err = e as ApiError;
      setError(err.message + (err.problems().length ? ': ' + err.problems().map((p) => p.message).join('; ') : ''));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Deploy ${props.flowName}`}
      onClose={props.onClose}
      testId="deploy-dialog"
      wide
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={busy || scaleBad || deadlineBad || !!varsProblem || !!allowProblem} onClick={submit} data-testid="deploy-submit">
            {busy ? (
              <>
                <Spinner /> Deploying… {elapsed.toFixed(1)} s
              </>
            ) : cur ? (
              `Deploy v${version} (replaces v${cur.version})`
            ) : (
              `Deploy v${version}`
            )}
          </button>
        </>
      }
    >
      <div className="form deploy-form">
        <div className="row">
          <label>
            Version
            <select aria-label="Version" value={version} onChange={(e) => setVersion(Number(e.target.value))}>
              {props.versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version} ({v.target}{v.revision ? `, revision ${v.revision}` : ''}) {timeAgo(v.created_at)}
                </option>
              ))}
            </select>
          </label>
          <fieldset className="targets">
            <legend>Target</legend>
            <label>
              <input type="radio" name="dtarget" checked={target === 'local'} onChange={() => setTarget('local')} /> local (this machine)
            </label>
            <label className={targets.includes('nomad') ? '' : 'disabled'} title={targets.includes('nomad') ? '' : 'Nomad is not configured on this server (NOMAD_ADDR).'}>
              <input type="radio" name="dtarget" disabled={!targets.includes('nomad')} checked={target === 'nomad'} onChange={() => setTarget('nomad')} /> nomad
              {!targets.includes('nomad') && <span className="muted"> (not configured)</span>}
            </label>
          </fieldset>
        </div>
        <div className="row">
          <label>
            Min instances
            <input aria-label="Min instances" inputMode="numeric" value={min} onChange={(e) => setMin(e.target.value)} className={scaleBad ? 'invalid' : ''} />
          </label>
          <label>
            Max instances
            <input aria-label="Max instances" inputMode="numeric" value={max} onChange={(e) => setMax(e.target.value)} className={scaleBad ? 'invalid' : ''} />
          </label>
          <label>
            Request deadline
            <input aria-label="Request deadline" value={deadline} onChange={(e) => setDeadline(e.target.value)} className={deadlineBad ? 'invalid' : ''} placeholder="30s" />
          </label>
        </div>
        {scaleBad && <div className="hint error-text">Instances: whole numbers, max at least 1 and not below min.</div>}
        {deadlineBad && <div className="hint error-text">Deadline: a duration such as 500ms, 30s or 2m.</div>}
        <h4>Environment variables</h4>
        <p className="hint">Expressions read them as env.NAME; code.js as env.NAME. Shown back as they are: put keys and passwords under Secrets.</p>
        <PairsEditor label="Variable" pairs={env} keyPlaceholder="NAME" onChange={setEnv} secret={false} />
        <h4>Secrets</h4>
        <p className="hint">Read as env.NAME too, but sealed on the server, never shown again, and replaced by [redacted] in logs and errors.</p>
        {cur && setSecrets.length + setDatasources.length > 0 && (
          <div className="banner info" data-testid="secrets-set">
            The running deployment (v{cur.version}) has{' '}
            {[...setSecrets, ...setDatasources.map((n) => `datasource ${n}`)].map((n, i) => (
              <span key={n} className="set-name">
                {i > 0 ? ', ' : ''}
                <code>{n}</code>: set (enter a value to replace it)
              </span>
            ))}
            . The server never gives secrets or datasource URLs back, so a deploy sends only what is entered here: enter each of them again, or the new deployment goes
            without it.
          </div>
        )}
        {!cur && <p className="hint">Secrets and datasource URLs are entered on each deploy: the server never gives them back.</p>}
        <PairsEditor
          label="Secret"
          pairs={secrets}
          keyPlaceholder="NAME"
          valuePlaceholder="value"
          placeholderFor={(p) => (setSecrets.includes(p.key.trim()) ? 'set; enter the value again' : undefined)}
          onChange={setSecretPairs}
          secret
        />
        {varsProblem && <div className="hint error-text">{varsProblem}</div>}
        <h4>Datasources</h4>
        <p className="hint">Names used by db.query nodes, each with its connection URL (a secret, like the ones above).</p>
        <PairsEditor
          label="Datasource"
          pairs={ds}
          keyPlaceholder="main"
          valuePlaceholder="postgres://user:pass@host/db"
          placeholderFor={(p) => (setDatasources.includes(p.key.trim()) ? 'set; enter the URL again' : undefined)}
          onChange={setDs}
          secret
        />
        {unfilled.length > 0 && (
          <div className="banner warn" data-testid="unfilled-secrets">
            No value entered for {unfilled.join(', ')}: the new deployment will not have {unfilled.length === 1 ? 'it' : 'them'}.
          </div>
        )}
        <h4>Allowed internal addresses</h4>
        <EgressHint what="this deployment" />
        <ListEditor
          label="Allowed address"
          addLabel="address"
          items={allow}
          placeholder="10.1.2.0/24, billing.internal:8443"
          problem={allowEntryProblem}
          onChange={setAllow}
          testId="deploy-egress"
        />
        {props.liveURL && (
          <p className="hint">
            It will answer at <code>{props.liveURL}</code>.
          </p>
        )}
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
      </div>
    </Modal>
  );
}
