// A copy of a flow that can be deployed beside the original: a new name and
// its own trigger path (two running deployments may not serve the same route).
import { TRIGGER } from './flow';
import type { FlowDoc } from './types';

// As contract/route.go checks paths.
const SEGMENT_RE = /^[A-Za-z0-9._~-]+$/;
const PARAM_RE = /^:[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = ['/healthz', '/readyz', '/metrics'];

/** What is wrong with a trigger path, or ''. */
export function pathProblem(path: string): string {
  if (!path.startsWith('/')) return 'The path must start with /.';
  const trimmed = path.replace(/\/$/, '');
  if (RESERVED.includes(trimmed)) return `${trimmed} is reserved for the instance's own health and metrics.`;
  if (!trimmed) return '';
  const params = new Set<string>();
  for (const s of trimmed.slice(1).split('/')) {
    if (s === '') return 'The path has an empty segment.';
    if (s.startsWith(':')) {
      if (!PARAM_RE.test(s)) return `Parameter ${s} must be : and a name of letters, digits or _.`;
      if (params.has(s)) return `Parameter ${s} appears twice.`;
      params.add(s);
    } else if (s === '.' || s === '..') return `Segment ${s} would be removed by clients.`;
    else if (!SEGMENT_RE.test(s)) return `Segment “${s}” may hold only A-Z a-z 0-9 . _ ~ -.`;
  }
  return '';
}

/** A path for the copy: "-copy" on the last fixed segment (/orders/:shop gives /orders-copy/:shop), else the copy's name in front. */
export function copyPath(path: string, copyName: string): string {
  const segs = path.replace(/\/$/, '').split('/');
  for (let i = segs.length - 1; i > 0; i--) {
    if (segs[i] && !segs[i].startsWith(':')) {
      segs[i] += '-copy';
      return segs.join('/');
    }
  }
  return `/${copyName}${path === '/' ? '' : path}`;
}

/** The document with another name and its trigger at another path. */
export function copyOf(doc: FlowDoc, name: string, path: string): FlowDoc {
  return {
    ...doc,
    name,
    nodes: doc.nodes.map((n) => (n.type === TRIGGER ? { ...n, config: { ...n.config, path } } : n)),
  };
}
