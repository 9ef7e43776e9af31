// The Publish section: the target (JS or Go), the Publish button with its
// progress, and what came of it (the version, a conflict, problems, build log).
import type { Problem } from '../../types';
import { Spinner } from '../../ui';
import { targetLabel } from '../../targets';
import { RoleNote, why } from '../../shell';
import { ProblemList } from '../ProblemsPanel';
import type { PublishState } from './usePublish';

export function PublishForm(props: {
  pub: PublishState;
  dirty: boolean;
  /** The name was changed and not saved yet: saving moves the flow. */
  renaming: boolean;
  /** Why this user may not publish or deploy (a viewer), or ''. */
  blocked: string;
  /** Errors validation reports as you work: the server would refuse the publish. */
  errors: number;
  error: string;
  onPickProblem: (p: Problem) => void;
  onDeploy: (version: number) => void;
  /** Whether a version is deployed (then the banner no longer offers to deploy it). */
  deployed: (version: number) => boolean;
}) {
  const { pub, blocked } = props;
  const { targets, target, busy, elapsed, published, conflict, problems, buildLog } = pub;
  const because = why(blocked, 'publish-role-note');
  // A viewer's reason comes first; else the errors to fix, said on screen and in the tooltip.
  const fixFirst = props.errors > 0 ? `Fix ${props.errors} error${props.errors === 1 ? '' : 's'} to publish` : '';
  const publishWhy = blocked ? because : why(fixFirst, 'publish-errors-note');
  return (
    <section>
      <h3>Publish</h3>
      <p className="hint">Publishing turns the saved flow into an immutable version: a JavaScript bundle (fast to build) or a Go binary (fastest at run time, takes a while to build).</p>
      <div className="radio-row" role="radiogroup" aria-label="Target">
        {targets.map((t) => (
          <label key={t.name} className={t.available ? '' : 'disabled'} data-testid={`target-${t.name}`}>
            <input
              type="radio"
              name="target"
              value={t.name}
              disabled={!t.available || busy}
              checked={target === t.name}
              onChange={() => pub.pickTarget(t.name)}
              aria-describedby={t.available ? undefined : `target-reason-${t.name}`}
            />{' '}
            {targetLabel(t.name)}
          </label>
        ))}
        <button className="primary" disabled={busy || props.renaming || !!blocked || !!fixFirst} onClick={pub.publish} data-testid="publish" {...publishWhy}>
          {busy ? (
            <>
              <Spinner /> Publishing… {elapsed.toFixed(1)} s
            </>
          ) : props.dirty ? (
            'Save & publish'
          ) : (
            'Publish'
          )}
        </button>
      </div>
      {targets
        .filter((t) => !t.available)
        .map((t) => (
          <p key={t.name} className="hint target-reason" id={`target-reason-${t.name}`} data-testid={`target-reason-${t.name}`}>
            {targetLabel(t.name)} is not available on this server: {t.reason || 'the server cannot build it.'}
          </p>
        ))}
      {fixFirst && (
        <p className="hint error-text" id="publish-errors-note" data-testid="publish-errors-note">
          {fixFirst}: see Problems below the canvas.
        </p>
      )}
      <RoleNote reason={blocked && `Publishing and deploying need the editor role. ${blocked}`} id="publish-role-note" testId="publish-blocked" />
      {props.renaming && <p className="hint">The flow's name was changed: save it (Ctrl+S) before publishing.</p>}
      {busy && target === 'go' && <p className="hint">Building the Go binary; this can take a minute the first time.</p>}
      {published && (
        <div className="banner ok" role="status" data-testid="published">
          Published version {published.version} ({published.target}){published.revision ? ` from revision ${published.revision}` : ''}.{' '}
          {props.deployed(published.version) ? (
            'It is deployed.'
          ) : (
            <button className="link" onClick={() => props.onDeploy(published.version)} disabled={!!blocked} {...because}>
              Deploy it…
            </button>
          )}
        </div>
      )}
      {conflict && (
        <div className="banner error" role="alert" data-testid="publish-conflict">
          <strong>The flow changed since you loaded it.</strong> It was saved elsewhere
          {conflict.current ? ` and is now at revision ${conflict.current}` : ''}; this editor shows revision {conflict.mine}. Nothing was published: reload to see the
          latest, check it, then publish again.
          {conflict.message && <div className="small-text">{conflict.message}</div>}
          <div className="banner-actions">
            <button className="small" disabled={pub.reloading} data-testid="publish-conflict-reload" onClick={pub.reloadLatest}>
              {props.dirty ? 'Reload the latest (discards your unsaved changes)' : 'Reload the latest'}
            </button>
          </div>
        </div>
      )}
      {props.error && (
        <div className="banner error" role="alert">
          {props.error}
        </div>
      )}
      {problems.length > 0 && <ProblemList problems={problems} onPick={props.onPickProblem} testId="publish-problems" />}
      {buildLog && (
        <details open>
          <summary>Build log</summary>
          <pre className="build-log">{buildLog}</pre>
        </details>
      )}
    </section>
  );
}
