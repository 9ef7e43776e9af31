import { Component, createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { api } from './api';
import type { Info, Spec } from './types';
import { useRoute } from './router';
import { FlowsPage } from './pages/FlowsPage';
import { EditorPage } from './editor/EditorPage';
import { Toasts } from './ui';

export interface Catalog {
  specs: Spec[];
  byType: Map<string, Spec>;
  info: Info | null;
}

const CatalogContext = createContext<Catalog>({ specs: [], byType: new Map(), info: null });
export const useCatalog = () => useContext(CatalogContext);

export function App() {
  const route = useRoute();
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let alive = true;
    Promise.all([api.nodeTypes(), api.info().catch(() => null)])
      .then(([specs, info]) => {
        if (!alive) return;
        specs = specs ?? [];
        setCatalog({ specs, byType: new Map(specs.map((s) => [s.type, s])), info });
      })
      .catch((e) => alive && setError((e as Error).message));
    return () => {
      alive = false;
    };
  }, []);

  if (error)
    return (
      <div className="fatal">
        <h1>Flowline</h1>
        <p>Cannot load node types: {error}</p>
        <button onClick={() => location.reload()}>Retry</button>
      </div>
    );
  if (!catalog) return <div className="loading">Loading…</div>;
  return (
    <CatalogContext.Provider value={catalog}>
      <ErrorBoundary key={route.page === 'editor' ? route.name : ''}>{route.page === 'editor' ? <EditorPage key={route.name} name={route.name} /> : <FlowsPage />}</ErrorBoundary>
      <Toasts />
    </CatalogContext.Provider>
  );
}

/** Shows what went wrong instead of a blank page; the work on the server is safe. */
class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="fatal" role="alert">
        <h1>Something went wrong in the designer</h1>
        <p>{this.state.error.message}</p>
        <p className="muted">What was saved is safe on the server. Unsaved edits on this page may be lost.</p>
        <button onClick={() => location.reload()}>Reload</button>{' '}
        <button onClick={() => (location.hash = '#/')}>Back to flows</button>
      </div>
    );
  }
}
