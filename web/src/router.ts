// Hash routing (#/ and #/flows/<name>) so the server needs no fallback
// route, with a guard that asks before leaving unsaved work.
import { useEffect, useState } from 'react';

export type Route = { page: 'flows' } | { page: 'editor'; name: string };

export function parseRoute(hash: string): Route {
  const m = /^#\/flows\/([^/?#]+)/.exec(hash);
  if (m) return { page: 'editor', name: decodeURIComponent(m[1]) };
  return { page: 'flows' };
}

export function flowHref(name: string) {
  return `#/flows/${encodeURIComponent(name)}`;
}

type Guard = () => Promise<boolean>;
let guard: Guard | null = null;
let current = location.hash;

/** Registers a guard asked before any in-app navigation; returns its remover. */
export function setLeaveGuard(g: Guard | null) {
  guard = g;
  return () => {
    if (guard === g) guard = null;
  };
}

/** Goes to hash, asking the guard first unless force. */
export async function navigate(hash: string, opts: { force?: boolean; replace?: boolean } = {}) {
  if (hash === location.hash) return;
  if (!opts.force && guard && !(await guard())) return;
  current = hash;
  if (opts.replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = async () => {
      const target = location.hash;
      if (target !== current && guard) {
        // Back/forward or a typed URL: put the old address back, then ask.
        const wanted = target;
        history.replaceState(null, '', current);
        if (!(await guard())) return;
        current = wanted;
        history.replaceState(null, '', wanted);
      }
      current = location.hash;
      setRoute(parseRoute(location.hash));
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}
