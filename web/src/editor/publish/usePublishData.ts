// What the Publish tab shows of a flow: its versions, its deployments (polled
// every 2 s) and whether its endpoint requires an API key (for the curl example).
import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api';
import type { Deployment, EndpointAccess, Version } from '../../types';

export function usePublishData(flowName: string, onError: (message: string) => void) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [deployments, setDeployments] = useState<Deployment[]>([]);
  // Whether callers need an API key, for the curl example (the Access tab changes it).
  const [access, setAccess] = useState<EndpointAccess | null>(null);
  useEffect(() => {
    let alive = true;
    api
      .access(flowName)
      .then((a) => alive && setAccess(a))
      .catch(() => {
        /* the example then goes without the key header */
      });
    return () => {
      alive = false;
    };
  }, [flowName]);

  const loadVersions = useCallback(async () => {
    try {
      setVersions(await api.versions(flowName));
    } catch (e) {
      onError((e as Error).message);
    }
  }, [flowName, onError]);

  const loadDeployments = useCallback(async () => {
    try {
      setDeployments(await api.deployments(flowName));
    } catch {
      /* shown as stale; the next poll retries */
    }
  }, [flowName]);

  useEffect(() => {
    void loadVersions();
    void loadDeployments();
    const h = setInterval(loadDeployments, 2000);
    return () => clearInterval(h);
  }, [loadVersions, loadDeployments]);

  return { versions, deployments, access, loadVersions, loadDeployments };
}
