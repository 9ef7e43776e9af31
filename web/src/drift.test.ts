import { describe, expect, it } from 'vitest';
import { deployAction, deploymentName, driftBadges, ellipsize, flowDrift, instanceLabel, isActive, newestDeployed, pathFromName, sameRunMeaning, shortId } from './drift';
import type { FlowDoc } from './types';

const dep = (version: number, status = 'running') => ({ version, status });

describe('drift', () => {
  it('counts pending and running deployments as active, not stopped or failed ones', () => {
    expect(isActive('running')).toBe(true);
    expect(isActive('pending')).toBe(true);
    expect(isActive('stopped')).toBe(false);
    expect(isActive('failed')).toBe(false);
    expect(newestDeployed([dep(1), dep(3, 'failed'), dep(2, 'pending')])).toBe(2);
    expect(newestDeployed([])).toBeNull();
  });

  it('says "changes not published" when the saved revision is newer than the newest version', () => {
    const d = flowDrift(6, { version: 2, revision: 5 }, [dep(2)]);
    expect(d.unpublished).toBe(true);
    expect(d.undeployed).toBe(false);
    const badges = driftBadges(d, 6);
    expect(badges.map((b) => b.text)).toEqual(['changes not published']);
    expect(badges[0].detail).toBe('Saved revision 6 is newer than v2 (from revision 5): publish to include the changes.');
  });

  it('says "published, not deployed" when the newest version has no active deployment', () => {
    expect(driftBadges(flowDrift(5, { version: 2, revision: 5 }, []), 5).map((b) => b.text)).toEqual(['published, not deployed']);
    // An older version runs, or the newest one failed: still not deployed.
    const older = driftBadges(flowDrift(5, { version: 2, revision: 5 }, [dep(1)]), 5);
    expect(older.map((b) => b.text)).toEqual(['published, not deployed']);
    expect(older[0].detail).toBe('v2 is not deployed; v1 is.');
    expect(flowDrift(5, { version: 2, revision: 5 }, [dep(2, 'failed')]).undeployed).toBe(true);
    expect(flowDrift(5, { version: 2, revision: 5 }, [dep(2, 'stopped')]).undeployed).toBe(true);
  });

  it('can say both at once', () => {
    expect(driftBadges(flowDrift(7, { version: 2, revision: 5 }, []), 7).map((b) => b.kind)).toEqual(['unpublished', 'undeployed']);
  });

  it('says "live: vN" when everything saved is published and deployed', () => {
    expect(driftBadges(flowDrift(5, { version: 3, revision: 5 }, [dep(3, 'pending')]), 5).map((b) => b.text)).toEqual(['live: v3']);
  });

  it('says nothing before the first publish, and claims no drift for versions without a revision', () => {
    expect(driftBadges(flowDrift(4, null, []), 4)).toEqual([]);
    expect(flowDrift(9, { version: 1 }, [dep(1)]).unpublished).toBe(false);
    expect(flowDrift(9, { version: 1, revision: 0 }, [dep(1)]).unpublished).toBe(false);
  });
});

describe('deploy actions of versions', () => {
  const deps = [dep(3), dep(1, 'stopped'), dep(5, 'failed')];
  it('rolls back to versions older than the newest deployed one, deploys newer ones', () => {
    expect(deployAction(3, deps)).toEqual({ kind: 'deployed', label: 'Redeploy…' });
    expect(deployAction(2, deps)).toEqual({ kind: 'rollback', label: 'Rollback to v2…' });
    expect(deployAction(1, deps)).toEqual({ kind: 'rollback', label: 'Rollback to v1…' });
    expect(deployAction(4, deps)).toEqual({ kind: 'deploy', label: 'Deploy v4…' });
    expect(deployAction(5, deps)).toEqual({ kind: 'deploy', label: 'Deploy v5…' });
  });
  it('deploys any version when nothing runs', () => {
    expect(deployAction(1, [])).toEqual({ kind: 'deploy', label: 'Deploy v1…' });
    expect(deployAction(1, [dep(2, 'stopped')]).kind).toBe('deploy');
  });
});

describe('names', () => {
  const id = '3f2b9c1e-7a4d-4e0f-9b1a-2c3d4e5f6a7b';
  it('names deployments by version and target, ids short', () => {
    expect(deploymentName({ version: 3, target: 'local' })).toBe('v3 on local');
    expect(shortId(id)).toBe('3f2b9c1e');
    expect(instanceLabel(`${id}-2`, id)).toBe('#2');
    expect(instanceLabel('alloc-1', id)).toBe('alloc-1');
    expect(instanceLabel('0123456789abcdef0123', id)).toBe('01234567');
  });
  it('shortens long texts with an ellipsis', () => {
    expect(ellipsize('short', 10)).toBe('short');
    expect(ellipsize('a'.repeat(12), 10)).toBe('a'.repeat(9) + '…');
  });
  it('derives the trigger path from the name', () => {
    expect(pathFromName('order-summary')).toBe('/order-summary');
    expect(pathFromName('')).toBe('/');
  });
});

describe('stale test runs', () => {
  const ran: FlowDoc = {
    version: 1,
    name: 'f',
    nodes: [
      { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/f' }, position: { x: 0, y: 0 } },
      { id: 'calc', type: 'set', config: { fields: [{ name: 'a', value: '1' }] }, position: { x: 200, y: 0 } },
      { id: 'out', type: 'response', config: { body: 'a' }, position: { x: 400, y: 0 } },
    ],
    edges: [
      { from: 'start', to: 'calc' },
      { from: 'calc', to: 'out', port: 'out' },
    ],
  };
  const withNodes = (f: (ns: FlowDoc['nodes']) => FlowDoc['nodes']): FlowDoc => ({ ...ran, nodes: f(ran.nodes) });

  it('ignores moves, node order, the name and an equal config object', () => {
    expect(sameRunMeaning(ran, ran)).toBe(true);
    expect(sameRunMeaning(ran, withNodes((ns) => ns.map((n) => ({ ...n, position: { x: 9, y: 9 } }))))).toBe(true);
    expect(sameRunMeaning(ran, withNodes((ns) => [...ns].reverse()))).toBe(true);
    expect(sameRunMeaning(ran, { ...ran, name: 'g', description: 'd' })).toBe(true);
    expect(sameRunMeaning(ran, withNodes((ns) => ns.map((n) => ({ ...n, config: JSON.parse(JSON.stringify(n.config)) }))))).toBe(true);
    // "out" is the default port: writing it or not is the same edge.
    expect(sameRunMeaning(ran, { ...ran, edges: [{ from: 'calc', to: 'out' }, { from: 'start', to: 'calc' }] })).toBe(true);
  });

  it('notices added, removed and renamed nodes', () => {
    expect(sameRunMeaning(ran, withNodes((ns) => [...ns, { id: 'x', type: 'set' }]))).toBe(false);
    expect(sameRunMeaning(ran, withNodes((ns) => ns.slice(0, 2)))).toBe(false);
    expect(sameRunMeaning(ran, withNodes((ns) => ns.map((n) => (n.id === 'calc' ? { ...n, id: 'calc2' } : n))))).toBe(false);
  });

  it('notices changed configs, types and edges', () => {
    expect(sameRunMeaning(ran, withNodes((ns) => ns.map((n) => (n.id === 'out' ? { ...n, config: { body: 'b' } } : n))))).toBe(false);
    expect(sameRunMeaning(ran, withNodes((ns) => ns.map((n) => (n.id === 'out' ? { ...n, type: 'set' } : n))))).toBe(false);
    expect(sameRunMeaning(ran, { ...ran, edges: [{ from: 'start', to: 'calc' }, { from: 'calc', to: 'out', port: 'error' }] })).toBe(false);
    expect(sameRunMeaning(ran, { ...ran, edges: [{ from: 'start', to: 'calc' }] })).toBe(false);
  });
});
