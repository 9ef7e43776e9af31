// The list of validation problems; clicking one takes you to the node and field.
import type { Problem } from '../types';

export function ProblemList({ problems, onPick, testId }: { problems: Problem[]; onPick: (p: Problem) => void; testId?: string }) {
  return (
    <ul className="problem-list" data-testid={testId}>
      {problems.map((p, i) => (
        <li key={i}>
          <button className="problem" onClick={() => onPick(p)} data-node={p.node} data-field={p.field}>
            <span className="p-where">
              {p.node ? <code>{p.node}</code> : <span className="muted">flow</span>}
              {p.field && <code className="p-field">{p.field}</code>}
            </span>
            <span className="p-msg">{p.message}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function ProblemsPanel(props: { problems: Problem[]; checking: boolean; validated: boolean; open: boolean; onToggle: () => void; onPick: (p: Problem) => void; error?: string }) {
  const n = props.problems.length;
  return (
    <section className={`problems-panel${props.open ? ' open' : ''}`} aria-label="Problems">
      <button className="problems-head" onClick={props.onToggle} aria-expanded={props.open} data-testid="problems-toggle">
        {props.validated || n ? (
          <span className={`count ${n ? 'bad' : 'good'}`}>{n ? `${n} problem${n === 1 ? '' : 's'}` : 'No problems'}</span>
        ) : (
          <span className="muted">Problems</span>
        )}
        {props.checking && <span className="muted"> checking…</span>}
        {props.error && <span className="muted"> (validation unavailable: {props.error})</span>}
        <span className="spacer" />
        <span className="muted">{props.open ? '▾' : '▴'}</span>
      </button>
      {props.open && n > 0 && <ProblemList problems={props.problems} onPick={props.onPick} testId="problems" />}
    </section>
  );
}
