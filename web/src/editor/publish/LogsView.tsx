// The live log view of a deployment: the backlog, then a followed stream
// (EventSource), filtered by trace id and level, sticking to the bottom.
import { useEffect, useRef, useState } from 'react';
import { useLogStream, type LogFilter } from './useLogStream';

const LEVELS = ['', 'debug', 'info', 'warn', 'error'];

export function LogsView({ id }: { id: string }) {
  const [traceId, setTraceId] = useState('');
  const [level, setLevel] = useState('');
  const [filter, setFilter] = useState<LogFilter>({ traceId: '', level: '' });
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const h = setTimeout(() => setFilter({ traceId: traceId.trim(), level }), 300);
    return () => clearTimeout(h);
  }, [traceId, level]);
  const { lines, setLines, state } = useLogStream(id, filter);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div className="logs-view" data-testid="logs-view">
      <div className="logs-filters">
        <input aria-label="Filter by trace id" placeholder="trace id" value={traceId} onChange={(e) => setTraceId(e.target.value)} spellCheck={false} />
        <select aria-label="Filter by level" value={level} onChange={(e) => setLevel(e.target.value)}>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l || 'all levels'}
            </option>
          ))}
        </select>
        <span className={`live-dot ${state}`} title={state} /> <span className="muted small-text">{state}</span>
        <span className="spacer" />
        <button className="small" onClick={() => setLines([])}>
          Clear
        </button>
      </div>
      <div
        className="log-box"
        ref={box}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 && <p className="muted small-text">No log lines yet. Call the live URL to see its logs here.</p>}
        {lines.map((l, i) => (
          <div key={i} className={`log-line lvl-${l.level}`}>
            <span className="t">{l.time ? new Date(l.time).toLocaleTimeString() : ''}</span>
            <span className="lvl">{l.level}</span>
            {l.node && <code>{l.node}</code>}
            <span className="msg">{l.message}</span>
            {l.trace_id && (
              <button className="link trace" title="Show this trace only" onClick={() => setTraceId(l.trace_id!)}>
                {l.trace_id.slice(0, 8)}
              </button>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}
