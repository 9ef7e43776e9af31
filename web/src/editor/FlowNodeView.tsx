// How a node looks on the canvas: title, id, a one-line summary, an input
// handle, and one labelled source handle per port.
import { memo, useEffect, useRef } from 'react';
import { Handle, Position, useUpdateNodeInternals, type Node, type NodeProps } from '@xyflow/react';
import type { FlowNode, Spec } from '../types';
import { hasInput } from '../flow';
import { summary, useCategoryColor } from '../catalog';

export type RunStatus = 'ok' | 'failed' | 'skipped';

export type NodeData = {
  node: FlowNode;
  spec?: Spec;
  ports: string[];
  status?: RunStatus;
  /** The status is from a run of an earlier meaning of the flow. */
  stale?: boolean;
  /** Test runs use a pinned output instead of running this node. */
  pinned?: boolean;
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
  const color = useCategoryColor()(spec?.category);
  const line = summary(node, spec);
  return (
    <div
      className={`fnode${selected ? ' selected' : ''}${status ? ' run-' + status : ''}${problems ? ' has-problems' : warnings ? ' has-warnings' : ''}`}
      style={{ ['--cat' as string]: color }}
      data-node-id={node.id}
      data-status={status ?? ''}
      data-stale={data.stale ? 'true' : undefined}
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
        {data.pinned && (
          <span className="badge pin" title="Pinned sample data: test runs use its pinned output instead of running it" data-testid="pin-badge">
            📌
          </span>
        )}
        {status && (
          <span
            className={`badge run ${status}`}
            title={(status === 'skipped' ? 'skipped' : `${status}${data.duration !== undefined ? `, ${data.duration} ms` : ''}`) + (data.stale ? ' (stale: the flow changed since this run)' : '')}
          >
            {status === 'ok' ? '✓' : status === 'failed' ? '!' : '–'}
          </span>
        )}
      </div>
      <div className="fnode-id">{node.id}</div>
      {line && <div className="fnode-summary">{line}</div>}
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
