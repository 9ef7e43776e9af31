// The dialog after a save refused with 409 whose changes overlap someone
// else's (the rest merged by itself): choose per node whose version to keep
// and save, or overwrite theirs (after confirming), reload theirs, or save
// this edit as a new flow at a path of its own.
import { useState } from 'react';
import { ApiError, api } from '../../api';
import type { FlowDoc, FlowNode } from '../../types';
import { NAME_RE, cleanDoc, triggerOf } from '../../flow';
import { copyOf, copyPath, pathProblem } from '../../copy';
import { nodeDiff, resolve, type Conflict, type FieldConflict, type NodeConflict, type Side } from '../../merge';
import { Modal, toast } from '../../ui';
import type { SaveConflict } from './useFlowDocument';

type Mode = 'ask' | 'copy' | 'overwrite';

export function ConflictDialog(props: {
  /** The editor's document: mine. */
  doc: FlowDoc;
  conflict: SaveConflict;
  onClose: () => void;
  onReload: () => Promise<void>;
  onSavedCopy: (name: string) => void;
  /** Saves the resolved document on top of their revision. */
  onApply: (doc: FlowDoc) => Promise<boolean>;
  /** Saves mine over their revision. */
  onOverwrite: () => Promise<boolean>;
}) {
  const { conflict } = props;
  const merge = conflict.merge;
  const [mode, setMode] = useState<Mode>('ask');
  const [choices, setChoices] = useState<Record<string, Side>>({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const undecided = merge ? merge.conflicts.filter((c) => !choices[c.key]).length : 0;

  // The dialog closes as soon as the parent takes over; only a failure lands here.
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError('');
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  const footer =
    mode === 'copy' ? null : mode === 'overwrite' ? (
      <>
        <button onClick={() => setMode('ask')}>Back</button>
        <button className="danger" disabled={busy} onClick={() => void run(props.onOverwrite)} data-testid="confirm-overwrite">
          Overwrite revision {conflict.current}
        </button>
      </>
    ) : (
      <>
        <button onClick={props.onClose}>Keep editing</button>
        <button className="danger" disabled={busy} onClick={() => void run(props.onReload)}>
          Reload (discard mine)
        </button>
        <button onClick={() => setMode('copy')}>Save a copy…</button>
        {conflict.current !== undefined && (
          <button className="danger" onClick={() => setMode('overwrite')}>
            Overwrite theirs…
          </button>
        )}
        {merge && (
          <button
            className="primary"
            disabled={busy || undecided > 0}
            title={undecided ? `Choose a version for ${undecided} more` : undefined}
            onClick={() => void run(() => props.onApply(resolve(merge, choices)))}
            data-testid="apply-merge"
          >
            Apply and save
          </button>
        )}
      </>
    );

  return (
    <Modal title="Someone else saved this flow first" onClose={props.onClose} testId="conflict-dialog" wide={mode === 'ask' && !!merge?.conflicts.length} footer={footer}>
      {mode === 'copy' ? (
        <CopyForm doc={props.doc} onBack={() => setMode('ask')} onSaved={props.onSavedCopy} />
      ) : (
        <>
          <p>
            While you were editing, this flow was saved by someone else{conflict.current ? ` (it is now at revision ${conflict.current})` : ''}. Your changes are not saved
            yet and nothing is lost.
          </p>
          {mode === 'overwrite' ? (
            <p className="banner warn" data-testid="overwrite-confirm">
              Save your version over theirs? Everything they changed since you started is replaced by your version. Revision {conflict.current} stays in the
              flow’s history.
            </p>
          ) : merge ? (
            <MergeChoices conflicts={merge.conflicts} theirsRevision={conflict.current} choices={choices} onChoose={(key, side) => setChoices((c) => ({ ...c, [key]: side }))} />
          ) : (
            <p>Their version could not be fetched to merge with yours: reload theirs and discard yours, overwrite theirs, or save yours as a new flow.</p>
          )}
        </>
      )}
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}

function MergeChoices(props: { conflicts: Conflict[]; theirsRevision?: number; choices: Record<string, Side>; onChoose: (key: string, side: Side) => void }) {
  const { conflicts, choices, onChoose } = props;
  if (!conflicts.length) return <p>Your changes and theirs do not overlap: apply to save both.</p>;
  const all = (side: Side) => conflicts.forEach((c) => onChoose(c.key, side));
  return (
    <div className="merge-choices">
      <p>
        Changes that do not overlap are merged, and what only one of you changed is kept either way. Where you both changed the same thing, choose whose version
        to keep:
      </p>
      {conflicts.length > 1 && (
        <p className="merge-all">
          <button className="link" onClick={() => all('theirs')}>
            Take all theirs
          </button>
          <button className="link" onClick={() => all('mine')}>
            Keep all mine
          </button>
        </p>
      )}
      {conflicts.map((c) => (
        <ConflictChoice key={c.key} conflict={c} theirsRevision={props.theirsRevision} choice={choices[c.key]} onChoose={(side) => onChoose(c.key, side)} />
      ))}
    </div>
  );
}

/** One conflict: theirs and mine side by side, what differs highlighted, and the choice. */
function ConflictChoice(props: { conflict: Conflict; theirsRevision?: number; choice?: Side; onChoose: (side: Side) => void }) {
  const c = props.conflict;
  const title = c.kind === 'node' ? `Node ${c.id}` : FIELD_TITLES[c.field];
  // Both columns show what the choice gives, so they differ only where it matters.
  const view = (side: Side) => (c.kind === 'node' ? <NodeJson node={c.take[side]} diff={new Set(nodeDiff(c.take.theirs, c.take.mine))} /> : <FieldValue value={c[side]} />);
  const column = (side: Side, heading: string, action: string) => (
    <div className={`merge-side${props.choice === side ? ' chosen' : ''}`} onClick={() => props.onChoose(side)} data-side={side}>
      <label className="merge-pick">
        <input type="radio" name={`choice-${c.key}`} checked={props.choice === side} onChange={() => props.onChoose(side)} aria-label={action} />
        <span>{action}</span>
        <span className="hint">{heading}</span>
      </label>
      {view(side)}
    </div>
  );
  return (
    <section className="merge-conflict" role="group" aria-label={title} data-testid={`conflict-${c.key}`}>
      <h4>
        {c.kind === 'node' ? (
          <>
            Node <code>{c.id}</code>
          </>
        ) : (
          title
        )}{' '}
        <span className="hint">{c.kind === 'node' ? nodeSummary(c) : fieldSummary(c)}</span>
      </h4>
      <div className="merge-sides">
        {column('theirs', props.theirsRevision ? `revision ${props.theirsRevision}` : 'saved', 'Take theirs')}
        {column('mine', 'your edit', 'Keep mine')}
      </div>
    </section>
  );
}

const FIELD_TITLES: Record<FieldConflict['field'], string> = { name: 'Flow name', description: 'Description', version: 'Format version' };

function nodeSummary(c: NodeConflict): string {
  if (c.fields.includes('deleted')) return c.mine ? 'They deleted it; you changed it.' : 'You deleted it; they changed it.';
  const what = c.fields.map((f) => f.replace(/^config\./, '')).join(', ');
  return c.base ? `You both changed ${what}.` : `You both added a node with this id (${what} differ).`;
}

function fieldSummary(c: FieldConflict): string {
  return c.field === 'name' ? 'You both renamed the flow.' : 'You both changed it.';
}

type Line = { text: string; hl: boolean };

/** The node as JSON, one line per row, the lines of differing fields marked (positions left out: they never conflict). */
function nodeLines(n: FlowNode, diff: Set<string>): Line[] {
  const value = (v: unknown, indent: string) => JSON.stringify(v, null, 2).replace(/\n/g, `\n${indent}`);
  const entries: [string, string, boolean][] = [
    ['id', JSON.stringify(n.id), false],
    ['type', JSON.stringify(n.type), diff.has('type')],
  ];
  const cfg = Object.entries(n.config ?? {});
  const out: Line[] = [{ text: '{', hl: false }];
  entries.forEach(([k, v, hl], i) => out.push({ text: `  "${k}": ${v}${i < entries.length - 1 || cfg.length ? ',' : ''}`, hl }));
  if (cfg.length) {
    out.push({ text: '  "config": {', hl: false });
    cfg.forEach(([k, v], i) => {
      const text = `    ${JSON.stringify(k)}: ${value(v, '    ')}${i < cfg.length - 1 ? ',' : ''}`;
      for (const l of text.split('\n')) out.push({ text: l, hl: diff.has(`config.${k}`) });
    });
    out.push({ text: '  }', hl: false });
  }
  out.push({ text: '}', hl: false });
  return out;
}

function NodeJson(props: { node?: FlowNode; diff: Set<string> }) {
  if (!props.node) return <div className="merge-json deleted">Deleted</div>;
  return (
    <pre className="merge-json">
      {nodeLines(props.node, props.diff).map((l, i) => (
        // Block spans: each is one line, so the changed ones can be marked whole.
        <span key={i} className={l.hl ? 'hl' : undefined}>
          {l.text}
        </span>
      ))}
    </pre>
  );
}

function FieldValue(props: { value: unknown }) {
  return <pre className="merge-json">{props.value === undefined ? '(none)' : JSON.stringify(props.value)}</pre>;
}

/** Saving mine as a new flow, with a path of its own so that both can be deployed. */
function CopyForm(props: { doc: FlowDoc; onBack: () => void; onSaved: (name: string) => void }) {
  const trigger = triggerOf(props.doc);
  const origPath = typeof trigger?.config?.path === 'string' ? trigger.config.path : '';
  const [name, setName] = useState(`${props.doc.name}-copy`.slice(0, 64));
  const [path, setPath] = useState(() => (trigger ? copyPath(origPath || '/', name) : ''));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const strip = (p: string) => p.replace(/\/$/, '') || '/';
  const pathError = !trigger ? '' : pathProblem(path) || (strip(path) === strip(origPath) ? 'The copy needs a path of its own, or only one of the two can be deployed.' : '');
  const ok = NAME_RE.test(name) && !pathError;

  const save = async () => {
    if (!ok) return;
    setBusy(true);
    setError('');
    try {
      await api.createFlow(cleanDoc(trigger ? copyOf(props.doc, name, path) : { ...props.doc, name }));
      toast(trigger ? `Saved your version as ${name}, at ${path}` : `Saved your version as ${name}`);
      props.onSaved(name);
    } catch (e) {
      const err = e as ApiError;
      setError(err.status === 409 ? `A flow named “${name}” already exists; choose another name.` : err.message);
      setBusy(false);
    }
  };
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label>
        Name of the copy
        <input autoFocus aria-label="Copy name" value={name} onChange={(e) => setName(e.target.value.toLowerCase())} className={NAME_RE.test(name) ? '' : 'invalid'} />
      </label>
      {trigger && (
        <label>
          Path of the copy
          <input aria-label="Copy path" value={path} spellCheck={false} onChange={(e) => setPath(e.target.value.trim())} className={pathError ? 'invalid' : ''} />
        </label>
      )}
      {pathError ? <p className="field-error">{pathError}</p> : <p className="hint">The copy is a new flow with your changes, served at its own path, so both can be deployed.</p>}
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
      <div className="form-actions">
        <button type="button" onClick={props.onBack}>
          Back
        </button>
        <button type="submit" className="primary" disabled={busy || !ok} data-testid="save-copy">
          Save copy
        </button>
      </div>
    </form>
  );
}
