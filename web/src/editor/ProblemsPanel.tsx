// The list of validation problems; clicking one takes you to the node and field.
// Errors (red) stop a publish; warnings (amber) are advice and block nothing.
import type { Problem, Severity } from '../types';
import { countProblems, errorsFirst, isError, isWarning, problemSummary, severityOf } from '../problems';

/** The small "error"/"warning" label in front of a problem. */
export function SeverityTag({ severity }: { severity: Severity }) {
  return (
    <span className={`sev sev-${severity}`} data-testid="severity">
      <span aria-hidden="true">{severity === 'warning' ? '⚠' : '✕'}</span> {severity}
    </span>
  );
}

/**
 * Problems shown as notes in the side panel (those no form field shows):
 * errors in a red box, warnings in an amber one.
 */
export function ProblemNotes({ problems, showField = true }: { problems: Problem[]; showField?: boolean }) {
  const errors = problems.filter(isError);
  const warnings = problems.filter(isWarning);
  const note = (p: Problem, i: number) => (
    <li key={i} role={isError(p) ? 'alert' : 'status'}>
      {isWarning(p) && <SeverityTag severity="warning" />} {showField && p.field && <code>{p.field}</code>} {p.message}
    </li>
  );
  return (
    <>
      {errors.length > 0 && <ul className="np-problems">{errors.map(note)}</ul>}
      {warnings.length > 0 && (
        <ul className="np-problems warnings" data-testid="warning-notes">
          {warnings.map(note)}
        </ul>
      )}
    </>
  );
}

export function ProblemList({ problems, onPick, testId }: { problems: Problem[]; onPick: (p: Problem) => void; testId?: string }) {
  return (
    <ul className="problem-list" data-testid={testId}>
      {errorsFirst(problems).map((p, i) => {
        const sev = severityOf(p);
        return (
          <li key={i}>
            <button className={`problem ${sev}`} onClick={() => onPick(p)} data-node={p.node} data-field={p.field} data-severity={sev}>
              <SeverityTag severity={sev} />
              <span className="p-where">
                {p.node ? <code>{p.node}</code> : <span className="muted">flow</span>}
                {p.field && <code className="p-field">{p.field}</code>}
              </span>
              <span className="p-msg">{p.message}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function ProblemsPanel(props: { problems: Problem[]; checking: boolean; validated: boolean; open: boolean; onToggle: () => void; onPick: (p: Problem) => void; error?: string }) {
  const n = props.problems.length;
  const { errors } = countProblems(props.problems);
  const tone = errors ? 'bad' : n ? 'warn' : 'good';
  return (
    <section className={`problems-panel${props.open ? ' open' : ''}`} aria-label="Problems">
      <button className="problems-head" onClick={props.onToggle} aria-expanded={props.open} data-testid="problems-toggle">
        {props.validated || n ? <span className={`count ${tone}`}>{problemSummary(props.problems)}</span> : <span className="muted">Problems</span>}
        {props.checking && <span className="muted"> checking…</span>}
        {props.error && <span className="muted"> (validation unavailable: {props.error})</span>}
        <span className="spacer" />
        <span className="muted">{props.open ? '▾' : '▴'}</span>
      </button>
      {props.open && n > 0 && <ProblemList problems={props.problems} onPick={props.onPick} testId="problems" />}
    </section>
  );
}
