// The frame around the pages: the header with the main links and the user
// menu (who is signed in, their role, tokens, password, sign out), and the
// note that says why a viewer's buttons are disabled.
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { api } from './api';
import { isAdmin, roleLabel, setAuth, useUser } from './auth';
import { confirmLeave, navigate, passwordHref } from './router';

export type Section = 'flows' | 'tokens' | 'users' | 'audit' | 'password';

/** The header of the list pages (not the editor, which has its own toolbar). */
export function AppHeader(props: { active: Section; children?: ReactNode }) {
  const user = useUser();
  const admin = isAdmin(user);
  return (
    <header className="topbar">
      <a className="brand" href="#/" onClick={go('#/')}>
        <span className="logo" aria-hidden="true" /> Flowline
      </a>
      <nav className="mainnav" aria-label="Main">
        <NavLink href="#/" active={props.active === 'flows'}>
          Flows
        </NavLink>
        <NavLink href="#/tokens" active={props.active === 'tokens'}>
          API tokens
        </NavLink>
        {admin && (
          <NavLink href="#/users" active={props.active === 'users'}>
            Users
          </NavLink>
        )}
        {admin && (
          <NavLink href="#/audit" active={props.active === 'audit'}>
            Audit log
          </NavLink>
        )}
      </nav>
      <div className="spacer" />
      {props.children}
      <UserMenu />
    </header>
  );
}

function go(href: string) {
  return (e: React.MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // a new tab is the browser's business
    e.preventDefault();
    void navigate(href);
  };
}

function NavLink(props: { href: string; active: boolean; children: ReactNode }) {
  return (
    <a href={props.href} className={props.active ? 'active' : ''} aria-current={props.active ? 'page' : undefined} onClick={go(props.href)}>
      {props.children}
    </a>
  );
}

/** Signs out, asking first when there is unsaved work. */
export async function signOut() {
  if (!(await confirmLeave())) return;
  try {
    await api.signOut();
  } catch {
    /* signed out already, or the server is away: the cookie is cleared either way on the next sign-in */
  }
  // Navigate first (synchronously), so that the redirect to the sign-in page
  // does not carry this page as the place to come back to.
  void navigate('#/signin', { force: true });
  setAuth({ status: 'signed-out', message: 'You are signed out.' });
}

/** The signed-in user's name and role, opening a menu: tokens, password, admin pages, sign out. */
export function UserMenu() {
  const user = useUser();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    root.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const away = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);

  if (!user) return null;
  const close = (focusButton = true) => {
    setOpen(false);
    if (focusButton) button.current?.focus();
  };
  const pick = (f: () => void) => () => {
    close(false);
    f();
  };
  const onKey = (e: KeyboardEvent) => {
    const items = [...(root.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const d = e.key === 'ArrowDown' ? 1 : -1;
      items[(i + d + items.length) % items.length]?.focus();
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      (e.key === 'Home' ? items[0] : items[items.length - 1])?.focus();
    } else if (e.key === 'Tab') close(false);
  };
  const admin = isAdmin(user);
  return (
    <div className="user-menu" ref={root} onKeyDown={open ? onKey : undefined}>
      <button
        ref={button}
        className="user-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? 'user-menu-list' : undefined}
        data-testid="user-menu"
        onClick={() => setOpen((o) => !o)}
      >
        <span className="avatar" aria-hidden="true">
          {user.name.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-name">{user.name}</span>
        <span className={`role-badge role-${user.role}`}>{roleLabel(user.role)}</span>
        <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div className="menu" role="menu" id="user-menu-list" aria-label={`${user.name}'s menu`}>
          <div className="menu-head" role="presentation">
            Signed in as <strong>{user.name}</strong>
            <div className="muted small-text">
              {roleLabel(user.role)}: {user.role === 'admin' ? 'flows, users and the audit log' : user.role === 'editor' ? 'reads and changes flows' : 'reads flows'}
            </div>
          </div>
          <button role="menuitem" onClick={pick(() => void navigate('#/tokens'))}>
            API tokens
          </button>
          {admin && (
            <button role="menuitem" onClick={pick(() => void navigate('#/users'))}>
              Users
            </button>
          )}
          {admin && (
            <button role="menuitem" onClick={pick(() => void navigate('#/audit'))}>
              Audit log
            </button>
          )}
          <button role="menuitem" onClick={pick(() => void navigate(passwordHref(location.hash)))}>
            Change password
          </button>
          <button role="menuitem" onClick={pick(() => void signOut())}>
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

/** Why the buttons beside it are disabled; they point at it with aria-describedby. */
export function RoleNote(props: { reason: string; id: string; className?: string; testId?: string }) {
  if (!props.reason) return null;
  return (
    <p className={`role-note ${props.className ?? ''}`} id={props.id} data-testid={props.testId ?? 'role-note'}>
      {props.reason}
    </p>
  );
}

/** Points a button disabled for reason at the RoleNote with id noteId (set disabled yourself). */
export function why(reason: string, noteId: string) {
  return reason ? { title: reason, 'aria-describedby': noteId } : {};
}
