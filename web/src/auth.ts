// Who is signed in, and what their role lets them do. The server decides
// (every call is checked there); the designer only mirrors it, so that it
// never offers a button the server would refuse without saying why.
import { useSyncExternalStore } from 'react';
import type { Role, Session, User } from './types';

export const ROLES: Role[] = ['viewer', 'editor', 'admin'];

const RANK: Record<string, number> = { viewer: 1, editor: 2, admin: 3 };

/** Whether role is need or above; an unknown role is below everything. */
export function roleAtLeast(role: string | null | undefined, need: Role): boolean {
  return (RANK[role ?? ''] ?? 0) >= RANK[need];
}

/** Saves, creates, deletes, test runs, publishes, deploys. */
export const canEdit = (u: User | null | undefined) => !!u && roleAtLeast(u.role, 'editor');

/** Users and the audit log. */
export const isAdmin = (u: User | null | undefined) => !!u && roleAtLeast(u.role, 'admin');

/** Shown next to every change a viewer cannot make. */
export const VIEWER_REASON = 'Viewers can read flows; ask an admin for the editor role.';

/** Why u may not change flows, or '' when u may. */
export function editBlockReason(u: User | null | undefined): string {
  return canEdit(u) ? '' : VIEWER_REASON;
}

export const roleLabel = (role: string) => (role === 'admin' ? 'Admin' : role === 'editor' ? 'Editor' : role === 'viewer' ? 'Viewer' : role);

// The server's limits on passwords (server/auth.go): at least 10, at most
// 72 bytes, since bcrypt reads no further. Counting characters for the
// minimum and bytes for the maximum never lets through one it refuses.
export const MIN_PASSWORD = 10;
export const MAX_PASSWORD_BYTES = 72;

/** What is wrong with a new password, or '' when the server will take it. */
export function passwordProblem(pw: string): string {
  if ([...pw].length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
  if (new TextEncoder().encode(pw).length > MAX_PASSWORD_BYTES) return `Use at most ${MAX_PASSWORD_BYTES} bytes (fewer characters if they are not plain ASCII).`;
  return '';
}

/** A random password for a new user or a reset: 16 characters, no look-alikes. */
export function randomPassword(len = 16): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = new Uint8Array(len);
  crypto.getRandomValues(bytes);
  // 256 is not a multiple of the alphabet's length; the bias is too small to matter for a one-time password.
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

// The session, for every component: a tiny store, as the toasts are.
export type AuthState =
  | { status: 'unknown' }
  /**
   * message: why (the session ended, signed out); lastUser: who was signed in
   * until the session ended; reauth: the page stays, with the sign-in form
   * over it, since leaving it would lose unsaved work.
   */
  | { status: 'signed-out'; message?: string; lastUser?: User; reauth?: boolean }
  | { status: 'signed-in'; session: Session };

let state: AuthState = { status: 'unknown' };
const listeners = new Set<() => void>();

export function getAuth(): AuthState {
  return state;
}

export function setAuth(next: AuthState) {
  state = next;
  listeners.forEach((l) => l());
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

export function useAuth(): AuthState {
  return useSyncExternalStore(subscribe, getAuth, getAuth);
}

/**
 * The signed-in user, or null. While a page waits for its user to sign in
 * again over it (the session ended with unsaved work), the user it was
 * drawn for: the page keeps its look and role until then.
 */
export function useUser(): User | null {
  const a = useAuth();
  return a.status === 'signed-in' ? a.session.user : a.status === 'signed-out' ? (a.lastUser ?? null) : null;
}
