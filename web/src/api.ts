// The designer's only way to the server: the REST API under /api/v1, on
// the same origin with the session cookie. Unsafe calls carry the session's
// CSRF token; a call refused because nobody is signed in (401) or because
// the password is still a one-time one (403) is reported to the app, which
// shows the sign-in page or the change-password form.
import type {
  ApiToken,
  AuditEntry,
  Deployment,
  DeployRequest,
  EndpointAccess,
  FlowDoc,
  FlowKey,
  FlowRecord,
  FlowRevision,
  FlowSummary,
  Info,
  NewApiToken,
  NewFlowKey,
  Problem,
  Session,
  NodeTypes,
  TestRequest,
  TestResult,
  TestRunEnv,
  Analysis,
  ValueType,
  User,
  Version,
} from './types';

const BASE = '/api/v1';

// The CSRF token of the signed-in session: in memory only (it comes with
// every sign-in and GET /session), never in storage a script could read later.
let csrfToken = '';
let csrfUser = '';

export function setCsrfToken(t: string | null | undefined, userId?: string) {
  csrfToken = t ?? '';
  csrfUser = userId ?? '';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** headers plus X-CSRF-Token when the method can change something. */
export function withCsrf(method: string, headers: Record<string, string>, token: string): Record<string, string> {
  if (SAFE_METHODS.has(method.toUpperCase()) || !token) return headers;
  return { ...headers, 'X-CSRF-Token': token };
}

/** Not signed in; a one-time password to change first; another user signed in in this browser meanwhile. */
export type AuthProblem = 'signin' | 'password' | 'switched';

/** What a refused call says about the caller: not signed in, or a one-time password to change first. */
export function authProblem(status: number, message: string): AuthProblem | null {
  if (status === 401) return 'signin';
  if (status === 403 && /one-time password/i.test(message)) return 'password';
  return null;
}

/** A 403 for a missing or stale CSRF token (the session was replaced in another tab). */
export function isCsrfRefusal(status: number, message: string): boolean {
  return status === 403 && /X-CSRF-Token/i.test(message);
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date). */
export function parseRetryAfter(h: string | null | undefined, now = Date.now()): number | undefined {
  if (!h) return undefined;
  if (/^\d+$/.test(h.trim())) return Number(h.trim());
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000));
}

type AuthListener = (problem: AuthProblem, message: string, session?: Session) => void;
let authListener: AuthListener | null = null;

/** Registers the app's handler of 401s, one-time-password 403s and user switches; returns its remover. */
export function onAuthProblem(l: AuthListener) {
  authListener = l;
  return () => {
    if (authListener === l) authListener = null;
  };
}

export class ApiError extends Error {
  status: number;
  details: unknown[];
  body: Record<string, unknown> | null;
  /** Seconds to wait before trying again (429). */
  retryAfter?: number;
  constructor(status: number, message: string, body: Record<string, unknown> | null, retryAfter?: number) {
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
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
    ...(isRange(o.at) ? { at: o.at } : {}),
  };
}

function isRange(x: unknown): x is { from: number; to: number } {
  const r = x as { from?: unknown; to?: unknown } | null;
  return !!r && typeof r.from === 'number' && typeof r.to === 'number' && r.from <= r.to;
}

interface Options {
  headers?: Record<string, string>;
  /** The caller handles 401/403 itself (the sign-in and session calls): do not tell the app. */
  quiet?: boolean;
  /** Already retried once with a fresh CSRF token. */
  retried?: boolean;
}

async function request<T>(method: string, path: string, body?: unknown, opts: Options = {}): Promise<{ data: T; res: Response }> {
  const init: RequestInit = { method, headers: withCsrf(method, { Accept: 'application/json', ...opts.headers }, csrfToken) };
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
    if (isCsrfRefusal(res.status, msg) && !opts.retried) {
      // Another tab signed in again and the cookie now belongs to a new
      // session: take its token and try once more, if it is the same user.
      let fresh: Session | null = null;
      try {
        fresh = (await request<Session>('GET', '/session', undefined, { quiet: true })).data;
      } catch {
        // Not signed in any more.
        if (!opts.quiet) authListener?.('signin', msg);
      }
      if (fresh) {
        const sameUser = fresh.user?.id === csrfUser;
        setCsrfToken(fresh.csrf_token, fresh.user?.id);
        if (sameUser) return request<T>(method, path, body, { ...opts, retried: true });
        // Someone else signed in in this browser: never act as them unasked.
        authListener?.('switched', msg, fresh);
      }
    }
    const problem = authProblem(res.status, msg);
    if (problem && !opts.quiet) authListener?.(problem, msg);
    throw new ApiError(res.status, msg, obj, parseRetryAfter(res.headers.get('Retry-After')));
  }
  return { data: parsed as T, res };
}

const enc = encodeURIComponent;

/** Access as the server answers it, with lists where it might send null. */
export function normalizeAccess(a: Partial<EndpointAccess> | null | undefined): EndpointAccess {
  return { require_key: !!a?.require_key, cors_origins: a?.cors_origins ?? [], keys: (a?.keys ?? []) as FlowKey[] };
}

export const api = {
  /** Who is signed in (401 when nobody is); keeps the session's CSRF token. quiet: the caller handles a 401. */
  session: async (quiet = true) => {
    const s = (await request<Session>('GET', '/session', undefined, { quiet })).data;
    setCsrfToken(s.csrf_token, s.user?.id);
    return s;
  },
  signIn: async (name: string, password: string) => {
    const s = (await request<Session>('POST', '/session', { name, password }, { quiet: true })).data;
    setCsrfToken(s.csrf_token, s.user?.id);
    return s;
  },
  signOut: async () => {
    try {
      await request<unknown>('DELETE', '/session', undefined, { quiet: true });
    } finally {
      setCsrfToken('');
    }
  },
  /** Changes the caller's password; the server then ends all their sessions, this one too. */
  changePassword: async (current: string, next: string) => {
    await request<unknown>('POST', '/session/password', { current, new: next }, { quiet: true });
    setCsrfToken('');
  },
  tokens: async (all = false) => (await request<ApiToken[] | null>('GET', `/tokens${all ? '?all=1' : ''}`)).data ?? [],
  createToken: async (name: string) => (await request<NewApiToken>('POST', '/tokens', { name })).data,
  deleteToken: async (id: string, all = false) => {
    await request<unknown>('DELETE', `/tokens/${enc(id)}${all ? '?all=1' : ''}`);
  },
  users: async () => (await request<User[] | null>('GET', '/users')).data ?? [],
  createUser: async (u: { name: string; role: string; password: string }) => (await request<User>('POST', '/users', u)).data,
  updateUser: async (name: string, patch: { role?: string; password?: string; disabled?: boolean }) => (await request<User>('PATCH', `/users/${enc(name)}`, patch)).data,
  deleteUser: async (name: string) => {
    await request<unknown>('DELETE', `/users/${enc(name)}`);
  },
  /** Up to 100 entries, newest first; before (the last entry shown) pages on. */
  audit: async (before?: { at: string; id: string }) =>
    (await request<AuditEntry[] | null>('GET', `/audit${before ? `?before=${enc(before.at)}&before_id=${enc(before.id)}` : ''}`)).data ?? [],
  info: async () => (await request<Info>('GET', '/info')).data,
  nodeTypes: async () => (await request<NodeTypes>('GET', '/node-types')).data,
  listFlows: async () => (await request<FlowSummary[] | null>('GET', '/flows')).data ?? [],
  getFlow: async (name: string) => (await request<FlowRecord>('GET', `/flows/${enc(name)}`)).data,
  /** The flow as saved at revision n. */
  revision: async (name: string, n: number) => (await request<FlowRevision>('GET', `/flows/${enc(name)}/revisions/${n}`)).data,
  createFlow: async (doc: FlowDoc) => (await request<FlowRecord>('POST', '/flows', doc)).data,
  saveFlow: async (name: string, revision: number, doc: FlowDoc) =>
    (await request<FlowRecord>('PUT', `/flows/${enc(name)}`, doc, { headers: { 'If-Match': String(revision) } })).data,
  deleteFlow: async (name: string) => {
    await request<unknown>('DELETE', `/flows/${enc(name)}`);
  },
  /** Problems (type problems included) and each node's output type; samples are the last test run's outputs by node. */
  analyze: async (doc: FlowDoc, samples: Record<string, unknown>): Promise<Analysis> => {
    const d = (await request<{ errors: unknown[] | null; types: Record<string, ValueType> | null }>('POST', '/analyze', { flow: doc, samples })).data;
    return { problems: (d?.errors ?? []).map(toProblem), types: d?.types ?? {} };
  },
  /** The value an expression gives against a test run's data, or why it fails. */
  preview: async (q: { expr: string; request?: unknown; nodes?: Record<string, unknown>; env?: Record<string, string>; trace_id?: string }) =>
    (await request<{ value?: unknown; error?: string }>('POST', '/expressions/preview', q)).data,
  test: async (name: string, req: TestRequest, flow: FlowDoc, run: TestRunEnv) =>
    (await request<TestResult>('POST', `/flows/${enc(name)}/test`, { request: req, ...run, flow })).data,
  /**
   * Publishes the saved flow at `revision`, the one the editor shows: if it
   * was saved since (elsewhere), the server answers 409 and publishes nothing.
   */
  publish: async (name: string, target: string, revision: number) =>
    (await request<Version>('POST', `/flows/${enc(name)}/versions`, { target, revision })).data,
  versions: async (name: string) => (await request<Version[] | null>('GET', `/flows/${enc(name)}/versions`)).data ?? [],
  deploy: async (name: string, body: DeployRequest) => (await request<Deployment>('POST', `/flows/${enc(name)}/deployments`, body)).data,
  deployments: async (flow: string) => (await request<Deployment[] | null>('GET', `/deployments?flow=${enc(flow)}`)).data ?? [],
  deployment: async (id: string) => (await request<Deployment>('GET', `/deployments/${enc(id)}`)).data,
  undeploy: async (id: string) => {
    await request<unknown>('DELETE', `/deployments/${enc(id)}`);
  },
  /** Who may call the flow's published endpoint: the key requirement, CORS origins and keys. */
  access: async (flow: string) => normalizeAccess((await request<EndpointAccess>('GET', `/flows/${enc(flow)}/access`)).data),
  setAccess: async (flow: string, a: { require_key: boolean; cors_origins: string[] }) =>
    normalizeAccess((await request<EndpointAccess>('PUT', `/flows/${enc(flow)}/access`, a)).data),
  /** rate_per_minute 0 is no limit; the answer carries the key's secret, this once. */
  createKey: async (flow: string, k: { name: string; rate_per_minute: number }) => (await request<NewFlowKey>('POST', `/flows/${enc(flow)}/keys`, k)).data,
  deleteKey: async (flow: string, id: string) => {
    await request<unknown>('DELETE', `/flows/${enc(flow)}/keys/${enc(id)}`);
  },
  logsURL: (id: string, q: { trace_id?: string; level?: string; follow?: boolean }) => {
    const p = new URLSearchParams();
    if (q.trace_id) p.set('trace_id', q.trace_id);
    if (q.level) p.set('level', q.level);
    if (q.follow) p.set('follow', '1');
    return `${BASE}/deployments/${enc(id)}/logs?${p.toString()}`;
  },
};
