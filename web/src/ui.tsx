// Small shared pieces: modal dialogs, key/value pair editors, spinners,
// toasts, clipboard.
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

// Open modals. While there is one, the app behind it is inert: it takes no
// clicks or focus and leaves the accessibility tree, so a screen reader
// sees only the dialog.
let openModals = 0;
function setBackgroundInert(inert: boolean) {
  const app = document.getElementById('root');
  if (app) app.inert = inert;
}

export function Modal(props: { title: string; onClose?: () => void; children: ReactNode; footer?: ReactNode; wide?: boolean; testId?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    const root = ref.current;
    const first =
      root?.querySelector<HTMLElement>('[autofocus]') ??
      root?.querySelector<HTMLElement>('.modal-body input, .modal-body select, .modal-body textarea') ??
      root?.querySelector<HTMLElement>('.modal-foot button.primary') ??
      root;
    openModals++;
    setBackgroundInert(true);
    first?.focus();
    return () => {
      if (--openModals === 0) setBackgroundInert(false);
      prev?.focus?.();
    };
  }, []);
  // In a portal, outside the app's root, so that the root can be inert.
  return createPortal(
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) props.onClose?.();
      }}
    >
      <div
        ref={ref}
        className={`modal${props.wide ? ' wide' : ''}`}
        role="dialog"
        tabIndex={-1}
        aria-modal="true"
        aria-label={props.title}
        data-testid={props.testId}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && props.onClose) {
            e.stopPropagation();
            props.onClose();
          } else if (e.key === 'Tab') trapTab(e, ref.current);
        }}
      >
        <div className="modal-head">
          <h2>{props.title}</h2>
          {props.onClose && (
            <button className="icon" aria-label="Close" onClick={props.onClose}>
              ×
            </button>
          )}
        </div>
        <div className="modal-body">{props.children}</div>
        {props.footer && <div className="modal-foot">{props.footer}</div>}
      </div>
    </div>,
    document.body,
  );
}

/** Keeps Tab and Shift+Tab cycling inside the dialog. */
function trapTab(e: KeyboardEvent, root: HTMLElement | null) {
  if (!root) return;
  const focusable = [...root.querySelectorAll<HTMLElement>('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (el) => !el.hasAttribute('disabled') && el.offsetParent !== null,
  );
  if (focusable.length === 0) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const at = document.activeElement;
  if (e.shiftKey && (at === first || at === root)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && at === last) {
    e.preventDefault();
    first.focus();
  }
}

export type Pair = { key: string; value: string };

export function pairsToObject(pairs: Pair[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const p of pairs) if (p.key.trim()) o[p.key.trim()] = p.value;
  return o;
}

export function objectToPairs(o: Record<string, unknown> | null | undefined): Pair[] {
  return Object.entries(o ?? {}).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
}

export function PairsEditor(props: {
  pairs: Pair[];
  onChange: (p: Pair[]) => void;
  keyPlaceholder?: string;
  valuePlaceholder?: string;
  label: string;
  /** Values are typed into password inputs, which browsers neither show nor offer to remember. */
  secret?: boolean;
  /** The value's placeholder for one row (a secret that is set: "set; enter it again"). */
  placeholderFor?: (p: Pair) => string | undefined;
}) {
  const { pairs, onChange } = props;
  const set = (i: number, p: Partial<Pair>) => onChange(pairs.map((x, j) => (j === i ? { ...x, ...p } : x)));
  return (
    <div className="pairs" role="group" aria-label={props.label}>
      {pairs.map((p, i) => (
        <div className="pair" key={i}>
          <input aria-label={`${props.label} name ${i + 1}`} placeholder={props.keyPlaceholder ?? 'name'} value={p.key} onChange={(e) => set(i, { key: e.target.value })} />
          <input
            aria-label={`${props.label} value ${i + 1}`}
            placeholder={props.placeholderFor?.(p) ?? props.valuePlaceholder ?? 'value'}
            value={p.value}
            type={props.secret ? 'password' : 'text'}
            autoComplete={props.secret ? 'new-password' : undefined}
            spellCheck={props.secret ? false : undefined}
            onChange={(e) => set(i, { value: e.target.value })}
          />
          <button className="icon" title="Remove" aria-label={`Remove ${props.label} ${i + 1}`} onClick={() => onChange(pairs.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <button className="link" onClick={() => onChange([...pairs, { key: '', value: '' }])}>
        + add {props.label.toLowerCase()}
      </button>
    </div>
  );
}

/** The pairs with a name and a value: rows left without a value are not sent. */
export function filledPairs(pairs: Pair[]): Record<string, string> {
  return pairsToObject(pairs.filter((p) => p.value !== ''));
}

/**
 * An editable list of one-line entries (allowed addresses, CORS origins),
 * each with what is wrong with it shown under it.
 */
export function ListEditor(props: {
  items: string[];
  onChange: (items: string[]) => void;
  /** Names the group; rows are "<label> 1", "<label> 2"… */
  label: string;
  /** What the add link says: "+ add <addLabel>". */
  addLabel: string;
  placeholder?: string;
  problem?: (item: string) => string;
  disabled?: boolean;
  testId?: string;
}) {
  const { items, onChange } = props;
  return (
    <div className="pairs list-editor" role="group" aria-label={props.label} data-testid={props.testId}>
      {items.map((item, i) => {
        const bad = item.trim() ? (props.problem?.(item) ?? '') : '';
        const id = `${props.testId ?? 'list'}-problem-${i}`;
        return (
          <div key={i}>
            <div className="pair">
              <input
                aria-label={`${props.label} ${i + 1}`}
                placeholder={props.placeholder}
                value={item}
                spellCheck={false}
                disabled={props.disabled}
                className={bad ? 'invalid' : ''}
                aria-invalid={bad ? true : undefined}
                aria-describedby={bad ? id : undefined}
                onChange={(e) => onChange(items.map((x, j) => (j === i ? e.target.value : x)))}
              />
              <button className="icon" title="Remove" aria-label={`Remove ${props.label} ${i + 1}`} disabled={props.disabled} onClick={() => onChange(items.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
            {bad && (
              <div className="field-error" id={id}>
                {bad}
              </div>
            )}
          </div>
        );
      })}
      {!props.disabled && (
        <button className="link" onClick={() => onChange([...items, ''])}>
          + add {props.addLabel}
        </button>
      )}
    </div>
  );
}

export function Spinner() {
  return <span className="spinner" aria-hidden="true" />;
}

export function useElapsed(running: boolean): number {
  const [t, setT] = useState(0);
  useEffect(() => {
    if (!running) return;
    const start = Date.now();
    setT(0);
    const h = setInterval(() => setT(Math.floor((Date.now() - start) / 100) / 10), 100);
    return () => clearInterval(h);
  }, [running]);
  return t;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

export function CopyButton(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      className="small"
      onClick={async () => {
        setDone(await copyText(props.text));
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? 'Copied' : (props.label ?? 'Copy')}
    </button>
  );
}

type Toast = { id: number; text: string; kind: 'info' | 'error' };
let toastId = 0;
const toastListeners = new Set<(t: Toast[]) => void>();
let toasts: Toast[] = [];

export function toast(text: string, kind: 'info' | 'error' = 'info') {
  const t = { id: ++toastId, text, kind };
  toasts = [...toasts, t];
  toastListeners.forEach((l) => l(toasts));
  setTimeout(() => {
    toasts = toasts.filter((x) => x.id !== t.id);
    toastListeners.forEach((l) => l(toasts));
  }, kind === 'error' ? 8000 : 3000);
}

export function Toasts() {
  const [list, setList] = useState<Toast[]>(toasts);
  useEffect(() => {
    toastListeners.add(setList);
    return () => {
      toastListeners.delete(setList);
    };
  }, []);
  return (
    <div className="toasts" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

export function JsonView(props: { value: unknown; testId?: string }) {
  let text: string;
  if (props.value === undefined) text = '—';
  else if (typeof props.value === 'string') text = props.value;
  else {
    try {
      text = JSON.stringify(props.value, null, 2);
    } catch {
      text = String(props.value);
    }
  }
  return (
    <pre className="json" data-testid={props.testId}>
      {text}
    </pre>
  );
}

export function timeAgo(iso?: string): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString();
}

/**
 * useAction runs a form's or dialog's action: busy while it runs (so its
 * button can be disabled), and the message of its last failure, cleared
 * when it runs again. describe turns a failure into the words shown.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const run = useCallback(async (action: () => Promise<void>, describe: (e: Error & { status?: number }) => string = (e) => e.message) => {
    setBusy(true);
    setError('');
    try {
      await action();
    } catch (e) {
      setError(describe(e as Error & { status?: number }));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
