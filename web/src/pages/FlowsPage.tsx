// The list of flows: create, open, rename, duplicate, delete, import, export.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import type { FlowDoc, FlowSummary } from '../types';
import { NAME_RE, cleanDoc, download, emptyFlow, exportText } from '../flow';
import { isError } from '../problems';
import { flowHref, navigate } from '../router';
import { CopyButton, Modal, toast, timeAgo } from '../ui';
import { useCatalog } from '../catalog';
import { editBlockReason, useUser } from '../auth';
import { AppHeader, RoleNote, why } from '../shell';
import { driftBadges, flowDrift, pathFromName } from '../drift';
import { DriftBadges } from '../editor/publish/DriftBadges';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

type Dialog =
  | { kind: 'create' }
  | { kind: 'rename'; flow: FlowSummary }
  | { kind: 'duplicate'; flow: FlowSummary }
  | { kind: 'delete'; flow: FlowSummary }
  | { kind: 'import-name'; doc: FlowDoc; error: string };

export function FlowsPage() {
  const { info } = useCatalog();
  // A viewer reads and exports; the buttons that change flows stay visible, disabled, with the reason.
  const blocked = editBlockReason(useUser());
  const because = why(blocked, 'flows-role-note');
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [error, setError] = useState('');
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [filter, setFilter] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try {
      const list = await api.listFlows();
      list.sort((a, b) => a.name.localeCompare(b.name));
      setFlows(list);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  useEffect(() => {
    document.title = 'Flows · Flowline';
    void load();
  }, [load]);

  const exportFlow = async (name: string) => {
    try {
      const rec = await api.getFlow(name);
      download(`${rec.document.name}.flow.json`, exportText(rec.document));
    } catch (e) {
      toast(`Export failed: ${(e as Error).message}`, 'error');
    }
  };

  const importDoc = async (doc: FlowDoc) => {
    try {
      await api.createFlow(doc);
      toast(`Imported ${doc.name}`);
      setDialog(null);
      await load();
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 409) setDialog({ kind: 'import-name', doc, error: `A flow named “${doc.name}” already exists. Import it under another name:` });
      else if (err.status === 400 && NAME_RE.test(doc.name) === false)
        setDialog({ kind: 'import-name', doc, error: `“${doc.name}” is not a valid flow name. Choose another:` });
      else toast(`Import failed: ${err.message}${detailText(err)}`, 'error');
    }
  };

  const onFile = async (file: File) => {
    let doc: FlowDoc;
    try {
      doc = JSON.parse(await file.text());
    } catch (e) {
      toast(`${file.name} is not JSON: ${(e as Error).message}`, 'error');
      return;
    }
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.nodes)) {
      toast(`${file.name} is not a flow document`, 'error');
      return;
    }
    await importDoc(doc);
  };

  const shown = (flows ?? []).filter((f) => !filter || f.name.includes(filter) || (f.path ?? '').includes(filter) || (f.description ?? '').toLowerCase().includes(filter.toLowerCase()));

  return (
    <div className="page flows-page">
      <AppHeader active="flows">{info && <span className="muted small-text">server {info.version} · gateway {info.gateway_url}</span>}</AppHeader>
      <main className="flows-main">
        <div className="flows-head">
          <h1>Flows</h1>
          <input className="search" placeholder="Filter flows" aria-label="Filter flows" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <div className="spacer" />
          <button onClick={() => fileInput.current?.click()} disabled={!!blocked} {...because}>
            Import…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept="application/json,.json"
            hidden
            data-testid="import-file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void onFile(f);
            }}
          />
          <button className="primary" onClick={() => setDialog({ kind: 'create' })} disabled={!!blocked} {...because}>
            New flow
          </button>
        </div>
        <RoleNote reason={blocked} id="flows-role-note" />
        {error && (
          <div className="banner error" role="alert">
            {error} <button onClick={load}>Retry</button>
          </div>
        )}
        {flows === null && !error && <p className="muted">Loading…</p>}
        {flows && flows.length === 0 && (
          <div className="empty">
            <p>No flows yet. A flow is one HTTP endpoint, drawn as a graph of nodes.</p>
            <button className="primary" onClick={() => setDialog({ kind: 'create' })} disabled={!!blocked} {...because}>
              Create your first flow
            </button>
          </div>
        )}
        {flows && flows.length > 0 && (
          <table className="flows-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Endpoint</th>
                <th>State</th>
                <th>Updated</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {shown.map((f) => (
                <tr key={f.name} data-flow={f.name}>
                  <td>
                    <a
                      className="flow-name"
                      href={flowHref(f.name)}
                      onClick={(e) => {
                        e.preventDefault();
                        void navigate(flowHref(f.name));
                      }}
                    >
                      {f.name}
                    </a>
                    {f.description && <div className="muted small-text">{f.description}</div>}
                  </td>
                  <td>
                    {f.method && <span className={`method m-${f.method}`}>{f.method}</span>} <code>{f.path}</code>
                  </td>
                  <td>
                    <FlowState flow={f} gateway={info?.gateway_url} />
                  </td>
                  <td className="muted" title={f.updated_at}>
                    {timeAgo(f.updated_at)}
                  </td>
                  <td className="actions">
                    <button className="small" onClick={() => void navigate(flowHref(f.name))}>
                      Open
                    </button>
                    <button className="small" onClick={() => setDialog({ kind: 'rename', flow: f })} disabled={!!blocked} {...because}>
                      Rename
                    </button>
                    <button className="small" onClick={() => setDialog({ kind: 'duplicate', flow: f })} disabled={!!blocked} {...because}>
                      Duplicate
                    </button>
                    <button className="small" onClick={() => void exportFlow(f.name)}>
                      Export
                    </button>
                    <button className="small danger" onClick={() => setDialog({ kind: 'delete', flow: f })} disabled={!!blocked} {...because}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      {dialog?.kind === 'create' && <CreateDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === 'rename' && <NameDialog title={`Rename ${dialog.flow.name}`} action="Rename" initial={dialog.flow.name} onClose={() => setDialog(null)} onSubmit={(n) => renameFlow(dialog.flow.name, n).then(load)} />}
      {dialog?.kind === 'duplicate' && (
        <NameDialog title={`Duplicate ${dialog.flow.name}`} action="Duplicate" initial={freeName(dialog.flow.name + '-copy', flows ?? [])} onClose={() => setDialog(null)} onSubmit={(n) => duplicateFlow(dialog.flow.name, n).then(load)} />
      )}
      {dialog?.kind === 'import-name' && (
        <NameDialog
          title="Import flow"
          note={dialog.error}
          action="Import"
          initial={freeName(NAME_RE.test(dialog.doc.name) ? dialog.doc.name + '-2' : 'imported-flow', flows ?? [])}
          onClose={() => setDialog(null)}
          onSubmit={async (n) => {
            await api.createFlow({ ...dialog.doc, name: n });
            toast(`Imported ${n}`);
            await load();
          }}
        />
      )}
      {dialog?.kind === 'delete' && <DeleteDialog flow={dialog.flow} onClose={() => setDialog(null)} onDone={load} />}
    </div>
  );
}

function detailText(e: ApiError): string {
  // The errors are why it was refused; warnings would only bury them.
  const p = e.problems().filter(isError);
  return p.length ? ': ' + p.map((x) => (x.field ? `${x.field}: ` : '') + x.message).join('; ') : '';
}

function freeName(base: string, flows: FlowSummary[]): string {
  const names = new Set(flows.map((f) => f.name));
  base = base.slice(0, 60);
  if (!names.has(base)) return base;
  for (let i = 2; ; i++) if (!names.has(`${base}-${i}`)) return `${base}-${i}`;
}

async function renameFlow(from: string, to: string) {
  const rec = await api.getFlow(from);
  await api.saveFlow(from, rec.revision, { ...rec.document, name: to });
  toast(`Renamed ${from} to ${to}`);
}

async function duplicateFlow(from: string, to: string) {
  const rec = await api.getFlow(from);
  await api.createFlow(cleanDoc({ ...rec.document, name: to }));
  toast(`Duplicated ${from} as ${to}`);
}

function FlowState({ flow, gateway }: { flow: FlowSummary; gateway?: string }) {
  const deps = flow.deployments ?? [];
  // Saved but not published, published but not running, or all live.
  const badges = driftBadges(flowDrift(flow.revision, flow.latest_version, deps), flow.revision);
  return (
    <div className="state">
      {flow.latest_version ? (
        <span className="pill published">
          v{flow.latest_version.version} · {flow.latest_version.target}
        </span>
      ) : (
        <span className="pill draft">draft</span>
      )}
      <DriftBadges badges={badges} />
      {deps.map((d) => (
        <span key={d.id} className={`pill deployed st-${d.status}`} title={gateway ? `${gateway}${flow.path ?? ''}` : undefined}>
          v{d.version} {d.status} on {d.target}
        </span>
      ))}
      {deps.length > 0 && gateway && flow.path && <LiveURL url={gateway.replace(/\/$/, '') + flow.path} method={flow.method ?? 'GET'} />}
    </div>
  );
}

/**
 * The live URL: a link where a browser's GET is what the endpoint serves;
 * else the URL to copy (opening it would only get 405).
 */
function LiveURL({ url, method }: { url: string; method: string }) {
  const shown = url.replace(/^https?:\/\//, '');
  if (method === 'GET' && !url.includes('/:'))
    return (
      <a className="live-link" href={url} target="_blank" rel="noreferrer">
        {shown}
      </a>
    );
  return (
    <span className="live-link" title={`A ${method} endpoint: call it with curl or your client`}>
      <code>{method}</code> {shown} <CopyButton text={url} label="Copy URL" />
    </span>
  );
}

function CreateDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [method, setMethod] = useState('POST');
  const [path, setPath] = useState('/');
  // The path follows the name ("/" + name) until the user edits it.
  const [pathEdited, setPathEdited] = useState(false);
  const [description, setDescription] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const nameOk = NAME_RE.test(name);
  const pathOk = /^\/([A-Za-z0-9._~-]+|:[A-Za-z_][A-Za-z0-9_]*)?(\/([A-Za-z0-9._~-]+|:[A-Za-z_][A-Za-z0-9_]*))*\/?$/.test(path);
  const submit = async () => {
    if (!nameOk || !pathOk) return;
    setBusy(true);
    try {
      await api.createFlow(emptyFlow(name, method, path, description));
      await navigate(flowHref(name));
    } catch (e) {
      setError((e as ApiError).status === 409 ? `A flow named “${name}” already exists.` : (e as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title="New flow"
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" disabled={!nameOk || !pathOk || busy} onClick={submit}>
            Create
          </button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Name
          <input
            autoFocus
            aria-label="Flow name"
            value={name}
            placeholder="order-summary"
            onChange={(e) => {
              const n = e.target.value.toLowerCase();
              setName(n);
              if (!pathEdited) setPath(pathFromName(n));
            }}
            className={name && !nameOk ? 'invalid' : ''}
          />
          <span className="hint">{name && !nameOk ? 'Use 1-64 characters of a-z, 0-9 and -.' : 'Lower case letters, digits and dashes.'}</span>
        </label>
        <div className="row">
          <label className="narrow">
            Method
            <select aria-label="Trigger method" value={method} onChange={(e) => setMethod(e.target.value)}>
              {METHODS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label className="grow">
            Path
            <input
              aria-label="Trigger path"
              value={path}
              placeholder="/orders/:shop"
              onChange={(e) => {
                setPath(e.target.value);
                setPathEdited(true);
              }}
              className={!pathOk ? 'invalid' : ''}
            />
            <span className="hint">{pathOk ? 'Segments like /orders/:shop; :name is a path parameter.' : 'Start with / and use A-Z a-z 0-9 . _ ~ - and :params.'}</span>
          </label>
        </div>
        <label>
          Description <span className="muted">(optional)</span>
          <input aria-label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

function NameDialog(props: { title: string; action: string; initial: string; note?: string; onClose: () => void; onSubmit: (name: string) => Promise<void> }) {
  const [name, setName] = useState(props.initial);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const ok = NAME_RE.test(name);
  const submit = async () => {
    if (!ok) return;
    setBusy(true);
    try {
      await props.onSubmit(name);
      props.onClose();
    } catch (e) {
      const err = e as ApiError;
      setError(err.status === 409 ? `${err.message || 'conflict'}` : err.message + detailText(err));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={props.title}
      onClose={props.onClose}
      footer={
        <>
          <button onClick={props.onClose}>Cancel</button>
          <button className="primary" disabled={!ok || busy} onClick={submit}>
            {props.action}
          </button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {props.note && <p>{props.note}</p>}
        <label>
          Name
          <input autoFocus aria-label="New name" value={name} onChange={(e) => setName(e.target.value.toLowerCase())} className={!ok ? 'invalid' : ''} />
          {!ok && <span className="hint">Use 1-64 characters of a-z, 0-9 and -.</span>}
        </label>
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
      </form>
    </Modal>
  );
}

function DeleteDialog({ flow, onClose, onDone }: { flow: FlowSummary; onClose: () => void; onDone: () => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const del = async () => {
    setBusy(true);
    try {
      await api.deleteFlow(flow.name);
      toast(`Deleted ${flow.name}`);
      onClose();
      onDone();
    } catch (e) {
      const err = e as ApiError;
      setError(err.status === 409 ? `${err.message}. Stop its deployments first (open the flow, Publish tab).` : err.message);
      setBusy(false);
    }
  };
  return (
    <Modal
      title={`Delete ${flow.name}?`}
      onClose={onClose}
      footer={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="danger" disabled={busy} onClick={del}>
            Delete
          </button>
        </>
      }
    >
      <p>The flow, its revisions and its versions are deleted. This cannot be undone.</p>
      {error && (
        <div className="banner error" role="alert">
          {error}
        </div>
      )}
    </Modal>
  );
}
