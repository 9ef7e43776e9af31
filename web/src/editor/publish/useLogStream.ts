// Streams a deployment's log lines: the backlog first, then the followed
// EventSource, without duplicates; starts over when the filter changes.
import { useEffect, useState } from 'react';
import type { LogLine } from '../../types';

/** Which lines to show: one trace, one level ('' for all). */
export interface LogFilter {
  traceId: string;
  level: string;
}

export type StreamState = 'connecting' | 'live' | 'retrying' | 'closed';

function logKey(l: LogLine) {
  return `${l.time}|${l.instance}|${l.node}|${l.level}|${l.message}`;
}

export function useLogStream(id: string, filter: LogFilter) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<StreamState>('connecting');

  useEffect(() => {
    let alive = true;
    let es: EventSource | null = null;
    const seen = new Set<string>();
    setLines([]);
    setState('connecting');
    const add = (batch: LogLine[]) => {
      const fresh = batch.filter((l) => {
        const k = logKey(l);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      if (fresh.length) setLines((xs) => [...xs, ...fresh].slice(-2000));
    };
    (async () => {
      let since = '';
      try {
        const res = await fetch(`/api/v1/deployments/${encodeURIComponent(id)}/logs?` + new URLSearchParams({ ...(filter.traceId ? { trace_id: filter.traceId } : {}), ...(filter.level ? { level: filter.level } : {}) }));
        if (res.ok) {
          const backlog = ((await res.json()) ?? []) as LogLine[];
          add(backlog);
          since = backlog.at(-1)?.time ?? '';
        }
      } catch {
        /* the stream below still tries */
      }
      if (!alive) return;
      const p = new URLSearchParams({ follow: '1' });
      if (filter.traceId) p.set('trace_id', filter.traceId);
      if (filter.level) p.set('level', filter.level);
      if (since) p.set('since', since);
      es = new EventSource(`/api/v1/deployments/${encodeURIComponent(id)}/logs?${p}`);
      es.onopen = () => alive && setState('live');
      es.onerror = () => {
        if (!alive) return;
        setState(es?.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
      };
      es.onmessage = (ev) => {
        const batch: LogLine[] = [];
        for (const line of String(ev.data).split('\n')) {
          if (!line.trim()) continue;
          try {
            batch.push(JSON.parse(line));
          } catch {
            batch.push({ message: line });
          }
        }
        add(batch);
      };
    })();
    return () => {
      alive = false;
      es?.close();
    };
  }, [id, filter]);

  return { lines, setLines, state };
}
