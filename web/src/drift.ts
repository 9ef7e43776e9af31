// Pure helpers for what differs between what is saved, what is published and
// what runs: drift badges (flows list, Publish tab), the versions' deploy or
// rollback actions, deployments named without raw ids, and whether a test
// run still describes the flow on the canvas (stale results).
import type { FlowDoc } from './types';
import { portOf, same } from './flow';

/** A deployment that serves, or is about to: not stopped, not failed. */
export function isActive(status: string): boolean {
  return status !== 'stopped' && status !== 'failed';
}

export interface VersionRef {
  version: number;
  /** The flow revision it was built from; absent or 0 on versions that predate it. */
  revision?: number;
}

export interface DeploymentLike {
  version: number;
  status: string;
}

export interface Drift {
  /** The newest version, or null before the first publish. */
  latest: VersionRef | null;
  /** The saved revision is newer than the one the newest version was built from. */
  unpublished: boolean;
  /** The newest version has no active deployment. */
  undeployed: boolean;
  /** The newest active deployment's version, or null. */
  deployed: number | null;
}

/** The highest version number among the active deployments, or null. */
export function newestDeployed(deployments: readonly DeploymentLike[]): number | null {
  let n: number | null = null;
  for (const d of deployments) if (isActive(d.status) && (n === null || d.version > n)) n = d.version;
  return n;
}

export function flowDrift(revision: number, latest: VersionRef | null | undefined, deployments: readonly DeploymentLike[]): Drift {
  const l = latest ?? null;
  // A version without its revision predates the field: nothing to compare, say nothing.
  const unpublished = !!l && !!l.revision && revision > l.revision;
  const undeployed = !!l && !deployments.some((d) => d.version === l.version && isActive(d.status));
  return { latest: l, unpublished, undeployed, deployed: newestDeployed(deployments) };
}

export type BadgeKind = 'unpublished' | 'undeployed' | 'live';

export interface Badge {
  kind: BadgeKind;
  text: string;
  /** The longer why, for a tooltip or a line beside the badge. */
  detail: string;
}

/** What to say about a flow's drift; nothing before the first publish (the list says "draft"). */
export function driftBadges(d: Drift, revision: number): Badge[] {
  const l = d.latest;
  if (!l) return [];
  const out: Badge[] = [];
  if (d.unpublished)
    out.push({
      kind: 'unpublished',
      text: 'changes not published',
      detail: `Saved revision ${revision} is newer than v${l.version} (from revision ${l.revision}): publish to include the changes.`,
    });
  if (d.undeployed)
    out.push({
      kind: 'undeployed',
      text: 'published, not deployed',
      detail: d.deployed !== null ? `v${l.version} is not deployed; v${d.deployed} is.` : `v${l.version} is not deployed: deploy it to serve it.`,
    });
  if (!out.length) out.push({ kind: 'live', text: `live: v${l.version}`, detail: `The saved flow is published as v${l.version}, and v${l.version} is deployed.` });
  return out;
}

export type DeployActionKind = 'deployed' | 'rollback' | 'deploy';

/**
 * The versions table's action for one version: the deployed one is
 * redeployed (new settings), an older one is a rollback, a newer one a deploy.
 */
export function deployAction(version: number, deployments: readonly DeploymentLike[]): { kind: DeployActionKind; label: string } {
  if (deployments.some((d) => d.version === version && isActive(d.status))) return { kind: 'deployed', label: 'Redeploy…' };
  const newest = newestDeployed(deployments);
  if (newest !== null && version < newest) return { kind: 'rollback', label: `Rollback to v${version}…` };
  return { kind: 'deploy', label: `Deploy v${version}…` };
}

/** How people name a deployment: "v3 on local", never its id. */
export function deploymentName(d: { version: number; target: string }): string {
  return `v${d.version} on ${d.target}`;
}

/** The first characters of an id, to tell ids apart (the full one goes in a title). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** An instance's id is "<deployment id>-<n>": show "#n". */
export function instanceLabel(instanceId: string, deploymentId: string): string {
  if (deploymentId && instanceId.startsWith(deploymentId + '-')) return '#' + instanceId.slice(deploymentId.length + 1);
  return instanceId.length > 12 ? shortId(instanceId) : instanceId;
}

/** At most max characters, the rest as "…". */
export function ellipsize(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, Math.max(0, max - 1)) + '…';
}

/** The trigger path a new flow gets from its name, until the path is edited. */
export function pathFromName(name: string): string {
  return '/' + name;
}


function edgeList(doc: FlowDoc): string[] {
  return doc.edges.map((e) => `${e.from}\u0000${portOf(e)}\u0000${e.to}`).sort();
}

/**
 * Whether a test run of `ran` still describes `now`: the same nodes (id, type,
 * config) and edges. Moves, the order of nodes, the name and the description
 * change nothing a run did.
 */
export function sameRunMeaning(ran: FlowDoc, now: FlowDoc): boolean {
  if (ran === now) return true;
  if (ran.nodes.length !== now.nodes.length || ran.edges.length !== now.edges.length) return false;
  if (ran.nodes !== now.nodes) {
    const byId = new Map(ran.nodes.map((n) => [n.id, n]));
    for (const n of now.nodes) {
      const m = byId.get(n.id);
      if (!m || m.type !== n.type) return false;
      // Configs are replaced, never mutated: the same object means the same config.
      if (m.config !== n.config && !same(m.config ?? {}, n.config ?? {})) return false;
    }
  }
  if (ran.edges === now.edges) return true;
  const a = edgeList(ran);
  const b = edgeList(now);
  return a.every((x, i) => x === b[i]);
}
