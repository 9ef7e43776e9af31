// The designer's only way to the server: the REST API under /api/v1.
import type {
  Deployment,
  FlowDoc,
  FlowRecord,
  FlowSummary,
  Info,
  Problem,
  Spec,
  TestRequest,
  TestResult,
  Version,
} from './types';

const BASE = '/api/v1';

export class ApiError extends Error {
  status: number;
  details: unknown[];
  body: Record<string, unknown> | null;
  constructor(status: number, message: string, body: Record<string, unknown> | null) {
    super(message);
    this.status = status;
    this.body = body;
    this.details = Array.isArray(body?.details) ? (body!.details as unknown[]) : [];
  }
  /** Problems carried by a 400/422 answer (details or errors). */
  problems(): Problem[] {
    const raw = this.details.length ? this.details : Array.isArray(this.body?.errors) ? (this.body!.errors as unknown[]) : [];
    return raw.map(toProblem);
  }
}

export function toProblem(x: unknown): Problem {
  if (typeof x === 'string') return { node: '', field: '', message: x, severity: 'error' };
  const o = (x ?? {}) as Record<string, unknown>;
  return {
    node: typeof o.node === 'string' ? o.node : '',
    field: typeof o.field === 'string' ? o.field : '',
    message: typeof o.message === 'string' ? o.message : JSON.stringify(x),
    // Anything but an explicit warning blocks, as every problem did before.
    severity: o.severity === 'warning' ? 'warning' : 'error',
  };
}

async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ data: T; res: Response }> {
  const init: RequestInit = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, `cannot reach the server: ${(e as Error).message}`, null);
  }
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    const obj = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
    const msg = obj && typeof obj.error === 'string' ? obj.error : typeof parsed === 'string' && parsed ? parsed : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg, obj);
  }
  return { data: parsed as T, res };
}

const enc = encodeURIComponent;

export const api = {
  info: async () => (await request<Info>('GET', '/info')).data,
  nodeTypes: async () => (await request<Spec[]>('GET', '/node-types')).data,
  listFlows: async () => (await request<FlowSummary[] | null>('GET', '/flows')).data ?? [],
  getFlow: async (name: string) => (await request<FlowRecord>('GET', `/flows/${enc(name)}`)).data,
  createFlow: async (doc: FlowDoc) => (await request<FlowRecord>('POST', '/flows', doc)).data,
  saveFlow: async (name: string, revision: number, doc: FlowDoc) =>
    (await request<FlowRecord>('PUT', `/flows/${enc(name)}`, doc, { 'If-Match': String(revision) })).data,
  deleteFlow: async (name: string) => {
    await request<unknown>('DELETE', `/flows/${enc(name)}`);
  },
  validate: async (doc: FlowDoc) => {
    const d = (await request<{ errors: unknown[] | null }>('POST', '/validate', doc)).data;
    return (d?.errors ?? []).map(toProblem);
  },
  test: async (name: string, req: TestRequest, flow: FlowDoc, env: Record<string, string>, datasources: Record<string, string>) =>
    (await request<TestResult>('POST', `/flows/${enc(name)}/test`, { request: req, env, datasources, flow })).data,
  /**
   * Publishes the saved flow at `revision`, the one the editor shows: if it
   * was saved since (elsewhere), the server answers 409 and publishes nothing.
   */
  publish: async (name: string, target: string, revision: number) =>
    (await request<Version>('POST', `/flows/${enc(name)}/versions`, { target, revision })).data,
  versions: async (name: string) => (await request<Version[] | null>('GET', `/flows/${enc(name)}/versions`)).data ?? [],
  deploy: async (
    name: string,
    body: {
      version: number;
      target: string;
      env: Record<string, string>;
      datasources: Record<string, string>;
      scaling: { min: number; max: number };
      deadline: string;
    },
  ) => (await request<Deployment>('POST', `/flows/${enc(name)}/deployments`, body)).data,
  deployments: async (flow: string) => (await request<Deployment[] | null>('GET', `/deployments?flow=${enc(flow)}`)).data ?? [],
  deployment: async (id: string) => (await request<Deployment>('GET', `/deployments/${enc(id)}`)).data,
  undeploy: async (id: string) => {
    await request<unknown>('DELETE', `/deployments/${enc(id)}`);
  },
  logsURL: (id: string, q: { trace_id?: string; level?: string; follow?: boolean }) => {
    const p = new URLSearchParams();
    if (q.trace_id) p.set('trace_id', q.trace_id);
    if (q.level) p.set('level', q.level);
    if (q.follow) p.set('follow', '1');
    return `${BASE}/deployments/${enc(id)}/logs?${p.toString()}`;
  },
};
