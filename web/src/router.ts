// Hash routing (#/, #/flows/<name>, #/signin, #/tokens, ...) so the server
// needs no fallback route, with a guard that asks before leaving unsaved
// work.
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'flows' }
  | { page: 'editor'; name: string }
  | { page: 'signin'; next: string }
  | { page: 'password'; next: string }
  | { page: 'tokens' }
  | { page: 'users' }
  | { page: 'audit' };

export function parseRoute(hash: string): Route {
  const m = /^#\/flows\/([^/?#]+)/.exec(hash);
  if (m) return { page: 'editor', name: safeDecode(m[1]) };
  const p = /^#\/(signin|password|tokens|users|audit)\/?(?:\?(.*))?$/.exec(hash);
  if (p) {
    const page = p[1] as 'signin' | 'password' | 'tokens' | 'users' | 'audit';
    if (page === 'signin' || page === 'password') return { page, next: safeNext(new URLSearchParams(p[2] ?? '').get('next')) };
    return { page };
  }
  return { page: 'flows' };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// Where to go after signing in (or after changing a one-time password): the
// page the user was on, carried in ?next=. Only an in-app hash route is
// taken, and never the sign-in or password page itself, so that a crafted
// link can neither leave the app nor loop.
export function safeNext(raw: string | null | undefined): string {
  if (!raw || !raw.startsWith('#/') || raw.length > 2000) return '#/';
  if (/^#\/(signin|password)(?:[/?]|$)/.test(raw)) return '#/';
  return raw;
}

/** The sign-in page, coming back to hash afterwards (kept as is when already there). */
export function signinHref(hash: string): string {
  const r = parseRoute(hash);
  if (r.page === 'signin') return hash;
  const next = r.page === 'password' ? r.next : safeNext(hash || '#/');
  return next === '#/' ? '#/signin' : `#/signin?next=${encodeURIComponent(next)}`;
}

/** The change-password form, coming back to hash afterwards. */
export function passwordHref(hash: string): string {
  const r = parseRoute(hash);
  if (r.page === 'password') return hash;
  const next = r.page === 'signin' ? r.next : safeNext(hash || '#/');
  return next === '#/' ? '#/password' : `#/password?next=${encodeURIComponent(next)}`;
}

export function flowHref(name: string) {
  return `#/flows/${encodeURIComponent(name)}`;
}

type Guard = () => Promise<boolean>;
let guard: Guard | null = null;
// (Guarded so that the pure helpers above can be unit-tested outside a browser.)
let current = typeof location === 'undefined' ? '' : location.hash;

/** Registers a guard asked before any in-app navigation; returns its remover. */
export function setLeaveGuard(g: Guard | null) {
  guard = g;
  return () => {
    if (guard === g) guard = null;
  };
}

/** Whether leaving now would lose unsaved work (a guard is registered). */
export function hasLeaveGuard() {
  return guard !== null;
}

/** Asks the guard, if any, whether the page may be left. */
export async function confirmLeave(): Promise<boolean> {
  return !guard || (await guard());
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
