// How a node looks on the canvas: title, id, a one-line summary, an input
// handle, and one labelled source handle per port.
import { memo, useEffect, useRef } from 'react';
import { Handle, Position, useUpdateNodeInternals, type Node, type NodeProps } from '@xyflow/react';
import type { FlowNode, Spec } from '../types';
import { hasInput } from '../flow';

export type RunStatus = 'ok' | 'failed' | 'skipped';

export type NodeData = {
  node: FlowNode;
  spec?: Spec;
  ports: string[];
  status?: RunStatus;
  duration?: number;
  /** Errors on this node (red badge). */
  problems: number;
  problemText?: string;
  /** Warnings on this node (amber badge): advice, they block nothing. */
  warnings: number;
  warningText?: string;
  takenPort?: string;
};

export type FlowRFNode = Node<NodeData, 'flow'>;

export function categoryColor(category: string | undefined): string {
  switch ((category ?? '').toLowerCase()) {
    case 'trigger':
      return '#4f6bed';
    case 'transform':
    case 'data':
      return '#22a06b';
    case 'branch':
    case 'logic':
    case 'flow':
    case 'control':
      return '#e0a526';
    case 'call':
    case 'io':
    case 'http':
    case 'integrate':
    case 'integration':
    case 'network':
      return '#8e5bd9';
    case 'database':
    case 'db':
      return '#b0568f';
    case 'code':
      return '#d9534f';
    case 'check':
    case 'validate':
    case 'validation':
      return '#3a9bb0';
    case 'debug':
      return '#7a869a';
    case 'respond':
    case 'output':
    case 'response':
      return '#2b6fb3';
    default:
      return '#7a869a';
  }
}

function short(s: unknown, n = 38): string {
  const t = typeof s === 'string' ? s : s === undefined ? '' : JSON.stringify(s);
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

export function summary(n: FlowNode): string {
  const c = n.config ?? {};
  switch (n.type) {
    case 'trigger.http':
      return `${c.method ?? '?'} ${c.path ?? ''}`;
    case 'set':
      return Array.isArray(c.fields) ? (c.fields as { name?: string }[]).map((f) => f.name).filter(Boolean).join(', ') || 'no fields' : '';
    case 'if':
      return short(c.condition);
    case 'http.request':
      return `${c.method ?? 'GET'} ${short(c.url, 30)}`;
    case 'response':
      return `${c.status ?? 200}${c.body !== undefined ? ' · ' + short(c.body, 28) : ''}`;
    case 'log':
      return `${c.level ?? 'info'}: ${short(c.message, 28)}`;
    case 'db.query':
      return short(c.sql);
    case 'code.js':
      return short(typeof c.source === 'string' ? c.source.split('\n')[0] : '');
    default:
      return '';
  }
}

function FlowNodeViewImpl({ id, data, selected }: NodeProps<FlowRFNode>) {
  const { node, spec, ports, status, problems, warnings } = data;
  const update = useUpdateNodeInternals();
  const portKey = ports.join('|');
  const lastPorts = useRef(portKey);
  useEffect(() => {
    // React Flow measures new nodes itself; only a change of ports (switch
    // cases) needs the handles measured again.
    if (lastPorts.current === portKey) return;
    lastPorts.current = portKey;
    update(id);
  }, [id, portKey, update]);
  const color = categoryColor(spec?.category);
  return (
    <div
      className={`fnode${selected ? ' selected' : ''}${status ? ' run-' + status : ''}${problems ? ' has-problems' : warnings ? ' has-warnings' : ''}`}
      style={{ ['--cat' as string]: color }}
      data-node-id={node.id}
      data-status={status ?? ''}
    >
      {hasInput(node) && <Handle type="target" position={Position.Left} id="in" className="h-in" />}
      <div className="fnode-head">
        <span className="fnode-type">{spec?.title ?? node.type}</span>
        {problems > 0 && (
          <span className="badge problems" title={data.problemText} aria-label={`${problems} error${problems === 1 ? '' : 's'}`} data-testid="problem-badge">
            {problems}
          </span>
        )}
        {warnings > 0 && (
          <span className="badge warnings" title={data.warningText} aria-label={`${warnings} warning${warnings === 1 ? '' : 's'}`} data-testid="warning-badge">
            ⚠ {warnings}
          </span>
        )}
        {status && (
          <span className={`badge run ${status}`} title={status === 'skipped' ? 'skipped' : `${status}${data.duration !== undefined ? `, ${data.duration} ms` : ''}`}>
            {status === 'ok' ? '✓' : status === 'failed' ? '!' : '–'}
          </span>
        )}
      </div>
      <div className="fnode-id">{node.id}</div>
      {summary(node) && <div className="fnode-summary">{summary(node)}</div>}
      {ports.length > 0 && (
        <div className="fnode-ports">
          {ports.map((p) => (
            <div key={p} className={`fnode-port port-${p}${data.takenPort === p ? ' taken' : ''}`}>
              <span className="port-label">{p}</span>
              <Handle type="source" position={Position.Right} id={p} className={`h-out h-${p === 'error' ? 'error' : 'ok'}`} title={`${node.id} · ${p}`} data-port={p} />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

export const FlowNodeView = memo(FlowNodeViewImpl);
