// The audit log, for admins: who published, deployed, changed users and
// tokens, and which sign-ins failed; newest first, 100 at a time, "load
// older" asks for the entries before the last one shown.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import { isAdmin, useUser } from '../auth';
import type { AuditEntry } from '../types';
import { AppHeader } from '../shell';
import { Spinner } from '../ui';

/** The server's page size: a shorter page is the last one. */
export const AUDIT_PAGE = 100;

/** Appends an older page, dropping entries already shown (a page boundary can repeat one). */
export function appendPage(shown: AuditEntry[], page: AuditEntry[]): AuditEntry[] {
  const seen = new Set(shown.map((e) => e.id));
  return [...shown, ...page.filter((e) => !seen.has(e.id))];
}

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

export function AuditPage() {
  const me = useUser();
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  // before is the last entry shown: the next page starts after it, in the
  // server's order (time, then id), so entries of the same instant are
  // never skipped.
  const load = useCallback(async (before?: AuditEntry) => {
    setBusy(true);
    try {
      const page = await api.audit(before && { at: before.at, id: before.id });
      setEntries((shown) => (before ? appendPage(shown ?? [], page) : page));
      setMore(page.length >= AUDIT_PAGE);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    document.title = 'Audit log · Flowline';
    if (isAdmin(me)) void load();
  }, [load, me]);

  return (
    <div className="page">
      <AppHeader active="audit" />
      <main className="list-main">
        <div className="flows-head">
          <h1>Audit log</h1>
          <div className="spacer" />
          {isAdmin(me) && (
            <button onClick={() => void load()} disabled={busy}>
              Refresh
            </button>
          )}
        </div>
        {!isAdmin(me) ? (
          <p className="banner error" role="alert">
            Only admins read the audit log.
          </p>
        ) : (
          <>
            <p className="hint intro">Failed sign-ins, publishes, deploys, and changes to users and tokens, newest first.</p>
            {error && (
              <div className="banner error" role="alert">
                {error} <button onClick={() => void load(entries?.at(-1))}>Retry</button>
              </div>
            )}
            {entries === null && !error && <p className="muted">Loading…</p>}
            {entries && entries.length === 0 && <p className="muted empty-note">Nothing recorded yet.</p>}
            {entries && entries.length > 0 && (
              <table className="flows-table audit-table" data-testid="audit-table">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Who</th>
                    <th>Action</th>
                    <th>Target</th>
                    <th>Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e) => (
                    <tr key={e.id} data-id={e.id} data-action={e.action}>
                      <td className="nowrap" title={e.at}>
                        {when(e.at)}
                      </td>
                      <td>{e.actor}</td>
                      <td>
                        <span className={`pill action-${e.action.split('.')[0]}${e.action === 'login.failed' ? ' st-failed' : ''}`}>{e.action}</span>
                      </td>
                      <td>
                        <code>{e.target}</code>
                      </td>
                      <td className="muted">{e.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {entries && entries.length > 0 && (
              <div className="load-more">
                {more ? (
                  <button onClick={() => void load(entries.at(-1)!)} disabled={busy}>
                    {busy ? <Spinner /> : null} Load older
                  </button>
                ) : (
                  <span className="muted small-text">That is everything: {entries.length} entr{entries.length === 1 ? 'y' : 'ies'}.</span>
                )}
              </div>
            )}
          </>
        )}
      </main>
    </div>
  );
}
