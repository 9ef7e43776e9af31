// The config form, generated from a node type's spec fields. There is no
// hand-written form per node type: every kind of field has one renderer.
import { useEffect, useState, type ReactNode } from 'react';
import type { Config, Field, Severity } from '../types';
import { CodeEditor } from '../cm/CodeEditor';
import { ExprEditor } from './ExprField';
import { languageFor } from '../cm/langs';
import { newItem } from '../flow';
import { SeverityTag } from './ProblemsPanel';

/** A problem's message and severity, as shown under the field it is about. */
export type FieldProblem = { message: string; severity: Severity; at?: { from: number; to: number } };
/** The node's problems by normalized field path. */
export type ProblemIndex = Map<string, FieldProblem[]>;

/** Only errors mark a field invalid (red); a warning leaves it as it is. */
function hasError(index: ProblemIndex, path: string): boolean {
  return (index.get(path) ?? []).some((p) => p.severity === 'error');
}

/** The messages under a field or a list row: errors in red, warnings in amber with a label. */
export function FieldMessages({ items }: { items: FieldProblem[] }) {
  return (
    <>
      {items.map((m, i) =>
        m.severity === 'warning' ? (
          <div className="field-warning" role="status" key={i} data-testid="field-warning">
            <SeverityTag severity="warning" /> {m.message}
          </div>
        ) : (
          <div className="field-error" role="alert" key={i}>
            {m.message}
          </div>
        ),
      )}
    </>
  );
}

interface FieldProps {
  field: Field;
  value: unknown;
  path: string;
  problems: ProblemIndex;
  /** Prefix for undo coalescing keys, so typing is one undo step. */
  onEdit: (v: unknown, key: string) => void;
}

export function labelOf(f: Field): string {
  if (f.label) return f.label;
  const s = f.name.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Every field path the form renders for this config (to place problems). */
export function renderedPaths(fields: Field[], config: Config | undefined, prefix = '', out = new Set<string>()): Set<string> {
  for (const f of fields) {
    const p = prefix ? `${prefix}.${f.name}` : f.name;
    out.add(p);
    const v = config?.[f.name];
    if (f.kind === 'list' && Array.isArray(v)) {
      v.forEach((item, i) => {
        out.add(`${p}[${i}]`);
        renderedPaths(f.item ?? [], (item ?? {}) as Config, `${p}[${i}]`, out);
      });
    } else if (f.kind === 'expr_list' && Array.isArray(v)) {
      v.forEach((_, i) => out.add(`${p}[${i}]`));
    }
  }
  return out;
}

function Wrap(props: {
  field: Field;
  path: string;
  problems: ProblemIndex;
  children: ReactNode;
  extraError?: string;
  compact?: boolean;
  /** False when the editor shows the messages itself (expressions: once typing pauses). */
  messagesBelow?: boolean;
}) {
  const msgs = [...(props.problems.get(props.path) ?? [])];
  if (props.extraError) msgs.push({ message: props.extraError, severity: 'error' });
  const invalid = msgs.some((m) => m.severity === 'error');
  const warned = !invalid && msgs.length > 0;
  return (
    <div className={`field kind-${props.field.kind}${invalid ? ' invalid' : ''}${warned ? ' warned' : ''}${props.compact ? ' compact' : ''}`} data-field-path={props.path}>
      <div className="field-label">
        <span>{labelOf(props.field)}</span>
        {props.field.required && <span className="req" title="required">*</span>}
        <span className="field-kind">{kindLabel(props.field)}</span>
      </div>
      {props.children}
      {props.messagesBelow !== false && <FieldMessages items={msgs} />}
      {props.field.description && !props.compact && <div className="hint">{props.field.description}</div>}
    </div>
  );
}

function kindLabel(f: Field): string {
  switch (f.kind) {
    case 'expr':
      return 'expression';
    case 'int_or_expr':
      return 'number or expression';
    case 'expr_list':
      return 'expressions';
    case 'code':
      return f.language ?? 'code';
    case 'schema':
      return 'JSON Schema';
    default:
      return '';
  }
}

function defaultHint(f: Field): string | undefined {
  if (f.placeholder) return f.placeholder;
  if (f.default !== undefined && f.default !== null) return `default: ${typeof f.default === 'string' ? f.default : JSON.stringify(f.default)}`;
  return undefined;
}

export function FieldEditor(props: FieldProps) {
  const { field: f, value, path, problems, onEdit } = props;
  const empty = (v: unknown) => (f.required ? v : v === '' || v === undefined ? undefined : v);
  switch (f.kind) {
    case 'string':
      return (
        <Wrap {...props}>
          <input
            type="text"
            aria-label={labelOf(f)}
            value={typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value)}
            placeholder={defaultHint(f)}
            onChange={(e) => onEdit(empty(e.target.value), path)}
          />
        </Wrap>
      );
    case 'int':
      return <IntField {...props} />;
    case 'enum': {
      const opts = f.options ?? [];
      const cur = typeof value === 'string' ? value : '';
      return (
        <Wrap {...props}>
          <select aria-label={labelOf(f)} value={cur} onChange={(e) => onEdit(empty(e.target.value), path)}>
            {(!f.required || !cur) && <option value="">{f.default !== undefined ? `default (${String(f.default)})` : '—'}</option>}
            {cur && !opts.includes(cur) && <option value={cur}>{cur} (unknown)</option>}
            {opts.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </Wrap>
      );
    }
    case 'expr':
      return (
        <Wrap {...props} messagesBelow={false}>
          <ExprEditor
            value={typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)}
            onChange={(v) => onEdit(empty(v), path)}
            placeholder={defaultHint(f) ?? 'expression, e.g. request.body.id'}
            ariaLabel={labelOf(f)}
            problems={problems.get(path) ?? []}
            invalid={hasError(problems, path)}
            renderMessages={(items) => <FieldMessages items={items} />}
          />
        </Wrap>
      );
    case 'int_or_expr':
      return (
        <Wrap {...props} messagesBelow={false}>
          <ExprEditor
            value={value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value)}
            onChange={(v) => {
              const t = v.trim();
              onEdit(t === '' ? (f.required ? '' : undefined) : /^-?\d+$/.test(t) ? Number(t) : v, path);
            }}
            placeholder={defaultHint(f) ?? '200 or an expression'}
            ariaLabel={labelOf(f)}
            problems={problems.get(path) ?? []}
            invalid={hasError(problems, path)}
            renderMessages={(items) => <FieldMessages items={items} />}
          />
        </Wrap>
      );
    case 'code':
      return (
        <Wrap {...props}>
          <CodeEditor
            code
            value={typeof value === 'string' ? value : ''}
            onChange={(v) => onEdit(empty(v), path)}
            extensions={languageFor(f.language ?? 'javascript')}
            placeholder={defaultHint(f)}
            ariaLabel={labelOf(f)}
            invalid={hasError(problems, path)}
          />
        </Wrap>
      );
    case 'schema':
      return <SchemaField {...props} />;
    case 'list':
      return <ListField {...props} />;
    case 'expr_list':
      return <ExprListField {...props} />;
    default:
      return <RawField {...props} />;
  }
}

function IntField(props: FieldProps) {
  const { field: f, value, path, onEdit } = props;
  const [text, setText] = useState(value === undefined || value === null ? '' : String(value));
  useEffect(() => {
    setText((t) => (Number(t) === value || (t === '' && value === undefined) ? t : value === undefined || value === null ? '' : String(value)));
  }, [value]);
  const bad = text.trim() !== '' && !/^-?\d+$/.test(text.trim());
  return (
    <Wrap {...props} extraError={bad ? 'a whole number' : undefined}>
      <input
        type="text"
        inputMode="numeric"
        aria-label={labelOf(f)}
        value={text}
        placeholder={defaultHint(f)}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '') onEdit(f.required ? 0 : undefined, path);
          else if (/^-?\d+$/.test(t.trim())) onEdit(Number(t.trim()), path);
        }}
      />
    </Wrap>
  );
}

function SchemaField(props: FieldProps) {
  const { field: f, value, path, onEdit } = props;
  const show = (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2));
  const [text, setText] = useState(show(value));
  const [err, setErr] = useState('');
  useEffect(() => {
    setText((t) => {
      try {
        if (JSON.stringify(JSON.parse(t)) === JSON.stringify(value)) return t;
      } catch {
        /* the local text does not parse: the document changed under it */
      }
      setErr('');
      return show(value);
    });
  }, [value]);
  return (
    <Wrap {...props} extraError={err || undefined}>
      <CodeEditor
        code
        value={text}
        onChange={(t) => {
          setText(t);
          if (t.trim() === '') {
            setErr(f.required ? 'a JSON Schema object is required' : '');
            if (!f.required) onEdit(undefined, path);
            return;
          }
          try {
            const v = JSON.parse(t);
            if (!v || typeof v !== 'object' || Array.isArray(v)) {
              setErr('a JSON Schema is an object: { ... }');
              return;
            }
            setErr('');
            onEdit(v, path);
          } catch (e) {
            setErr(`JSON does not parse: ${(e as Error).message}`);
          }
        }}
        extensions={languageFor('json')}
        ariaLabel={labelOf(f)}
        invalid={!!err || hasError(props.problems, path)}
      />
    </Wrap>
  );
}

function move<T>(xs: T[], i: number, j: number): T[] {
  const out = xs.slice();
  const [x] = out.splice(i, 1);
  out.splice(j, 0, x);
  return out;
}

function RowTools(props: { i: number; n: number; onMove: (to: number) => void; onRemove: () => void; what: string }) {
  return (
    <div className="row-tools">
      <button className="icon" title="Move up" aria-label={`Move ${props.what} ${props.i + 1} up`} disabled={props.i === 0} onClick={() => props.onMove(props.i - 1)}>
        ↑
      </button>
      <button className="icon" title="Move down" aria-label={`Move ${props.what} ${props.i + 1} down`} disabled={props.i === props.n - 1} onClick={() => props.onMove(props.i + 1)}>
        ↓
      </button>
      <button className="icon danger" title="Remove" aria-label={`Remove ${props.what} ${props.i + 1}`} onClick={props.onRemove}>
        ×
      </button>
    </div>
  );
}

function singular(f: Field): string {
  const l = labelOf(f).toLowerCase();
  if (l.endsWith('ies')) return l.slice(0, -3) + 'y';
  if (l.endsWith('s')) return l.slice(0, -1);
  return l;
}

function ListField(props: FieldProps) {
  const { field: f, value, path, problems, onEdit } = props;
  const items = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  const set = (next: Record<string, unknown>[]) => onEdit(next.length === 0 && !f.required ? undefined : next, `${path}#list`);
  const what = singular(f);
  return (
    <Wrap {...props}>
      <div className="list">
        {items.map((item, i) => (
          <div className="list-row" key={i} data-field-path={`${path}[${i}]`}>
            <div className="list-row-fields">
              {(f.item ?? []).map((sub) => (
                <FieldEditor
                  key={sub.name}
                  field={sub}
                  value={item?.[sub.name]}
                  path={`${path}[${i}].${sub.name}`}
                  problems={problems}
                  onEdit={(v, key) => {
                    const next = items.slice();
                    const row = { ...(next[i] ?? {}) };
                    if (v === undefined) delete row[sub.name];
                    else row[sub.name] = v;
                    next[i] = row;
                    onEdit(next, key);
                  }}
                />
              ))}
            </div>
            <RowTools i={i} n={items.length} what={what} onMove={(to) => set(move(items, i, to))} onRemove={() => set(items.filter((_, j) => j !== i))} />
            <FieldMessages items={problems.get(`${path}[${i}]`) ?? []} />
          </div>
        ))}
        <button className="link add-row" onClick={() => set([...items, newItem(f.item ?? [])])}>
          + add {what}
        </button>
      </div>
    </Wrap>
  );
}

function ExprListField(props: FieldProps) {
  const { field: f, value, path, problems, onEdit } = props;
  const items = Array.isArray(value) ? (value as unknown[]) : [];
  const set = (next: unknown[], key = `${path}#list`) => onEdit(next.length === 0 && !f.required ? undefined : next, key);
  const what = singular(f);
  return (
    <Wrap {...props}>
      <div className="list">
        {items.map((item, i) => (
          <div className={`list-row expr-row${hasError(problems, `${path}[${i}]`) ? ' invalid' : ''}`} key={i} data-field-path={`${path}[${i}]`}>
            <span className="row-index">{f.name === 'params' ? `$${i + 1}` : i + 1}</span>
            <div className="list-row-fields">
              <ExprEditor
                value={typeof item === 'string' ? item : JSON.stringify(item ?? '')}
                onChange={(v) => set(items.map((x, j) => (j === i ? v : x)), `${path}[${i}]`)}
                placeholder=""
                ariaLabel={`${labelOf(f)} ${i + 1}`}
                problems={problems.get(`${path}[${i}]`) ?? []}
                invalid={hasError(problems, `${path}[${i}]`)}
                renderMessages={(items) => <FieldMessages items={items} />}
              />
            </div>
            <RowTools i={i} n={items.length} what={what} onMove={(to) => set(move(items, i, to))} onRemove={() => set(items.filter((_, j) => j !== i))} />
          </div>
        ))}
        <button className="link add-row" onClick={() => set([...items, ''])}>
          + add {what}
        </button>
      </div>
    </Wrap>
  );
}

function RawField(props: FieldProps) {
  const { value, path, onEdit } = props;
  const [text, setText] = useState(JSON.stringify(value ?? null));
  const [err, setErr] = useState('');
  return (
    <Wrap {...props} extraError={err || undefined}>
      <input
        type="text"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onEdit(JSON.parse(e.target.value), path);
            setErr('');
          } catch (x) {
            setErr((x as Error).message);
          }
        }}
      />
    </Wrap>
  );
}
