import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, authProblem, isCsrfRefusal, onAuthProblem, parseRetryAfter, setCsrfToken, withCsrf } from './api';

type Call = { url: string; method: string; headers: Record<string, string>; body?: string };

/** A fake server: answers calls in order and records them. */
function fakeFetch(answers: (Response | ((c: Call) => Response))[]) {
  const calls: Call[] = [];
  const fn = vi.fn(async (url: string, init: RequestInit = {}) => {
    const c: Call = { url, method: init.method ?? 'GET', headers: { ...(init.headers as Record<string, string>) }, body: init.body as string | undefined };
    calls.push(c);
    const a = answers.shift();
    if (!a) throw new Error(`unexpected call ${c.method} ${url}`);
    return typeof a === 'function' ? a(c) : a;
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

const session = (id: string, csrf: string) => ({ user: { id, name: id, role: 'editor', must_change_password: false, disabled: false }, csrf_token: csrf });

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken('');
});

describe('CSRF header', () => {
  it('goes on unsafe methods only', () => {
    expect(withCsrf('POST', { A: '1' }, 'tok')).toEqual({ A: '1', 'X-CSRF-Token': 'tok' });
    expect(withCsrf('put', {}, 'tok')).toEqual({ 'X-CSRF-Token': 'tok' });
    expect(withCsrf('PATCH', {}, 'tok')).toEqual({ 'X-CSRF-Token': 'tok' });
    expect(withCsrf('DELETE', {}, 'tok')).toEqual({ 'X-CSRF-Token': 'tok' });
    expect(withCsrf('GET', { A: '1' }, 'tok')).toEqual({ A: '1' });
    expect(withCsrf('HEAD', {}, 'tok')).toEqual({});
    expect(withCsrf('OPTIONS', {}, 'tok')).toEqual({});
  });
  it('is left out while there is no token', () => {
    expect(withCsrf('POST', {}, '')).toEqual({});
  });
  it('comes from the sign-in answer and is sent with the calls that follow', async () => {
    const calls = fakeFetch([json(200, session('u1', 'csrf-1')), json(201, { name: 'f', revision: 1 }), json(200, []), json(204, null)]);
    await api.signIn('u1', 'a long password');
    await api.createFlow({ version: 1, name: 'f', nodes: [], edges: [] });
    await api.listFlows();
    await api.deleteFlow('f');
    expect(calls[0].headers['X-CSRF-Token']).toBeUndefined(); // signing in has no session yet
    expect(calls[0].headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(calls[0].body!)).toEqual({ name: 'u1', password: 'a long password' });
    expect(calls[1].headers['X-CSRF-Token']).toBe('csrf-1');
    expect(calls[1].headers['Content-Type']).toBe('application/json');
    expect(calls[2].headers['X-CSRF-Token']).toBeUndefined();
    expect(calls[3].method).toBe('DELETE');
    expect(calls[3].headers['X-CSRF-Token']).toBe('csrf-1');
  });
  it('keeps If-Match beside it on a save', async () => {
    const calls = fakeFetch([json(200, session('u1', 'c')), json(200, { name: 'f', revision: 3 })]);
    await api.session();
    await api.saveFlow('f', 2, { version: 1, name: 'f', nodes: [], edges: [] });
    expect(calls[1].headers).toMatchObject({ 'If-Match': '2', 'X-CSRF-Token': 'c', 'Content-Type': 'application/json' });
  });
  it('is forgotten on sign-out and after a password change', async () => {
    const calls = fakeFetch([json(200, session('u1', 'c')), json(204, null), json(201, {}), json(200, session('u1', 'c2')), json(204, null), json(201, {})]);
    await api.session();
    await api.signOut();
    await api.createToken('x').catch(() => undefined);
    expect(calls[1].headers['X-CSRF-Token']).toBe('c');
    expect(calls[2].headers['X-CSRF-Token']).toBeUndefined();
    await api.session();
    await api.changePassword('old password', 'new password!');
    await api.createToken('y').catch(() => undefined);
    expect(calls[4].headers['X-CSRF-Token']).toBe('c2');
    expect(calls[5].headers['X-CSRF-Token']).toBeUndefined();
  });
  it('is fetched again once when the session was replaced by the same user (another tab signed in again)', async () => {
    const calls = fakeFetch([
      json(200, session('u1', 'old')),
      json(403, { error: 'missing or wrong X-CSRF-Token header' }),
      json(200, session('u1', 'new')),
      json(201, { id: 't', token: 'flt_x' }),
    ]);
    await api.session();
    const t = await api.createToken('ci');
    expect(t.token).toBe('flt_x');
    expect(calls.map((c) => `${c.method} ${c.url} ${c.headers['X-CSRF-Token'] ?? ''}`)).toEqual([
      'GET /api/v1/session ',
      'POST /api/v1/tokens old',
      'GET /api/v1/session ',
      'POST /api/v1/tokens new',
    ]);
  });
  it('is not used to act as another user who signed in meanwhile', async () => {
    const heard: string[] = [];
    const off = onAuthProblem((p, _m, s) => heard.push(`${p} ${s?.user.name ?? ''}`));
    const calls = fakeFetch([json(200, session('u1', 'old')), json(403, { error: 'missing or wrong X-CSRF-Token header' }), json(200, session('u2', 'theirs'))]);
    await api.session();
    await expect(api.createToken('ci')).rejects.toMatchObject({ status: 403 });
    expect(calls).toHaveLength(3); // no retry as u2
    expect(heard).toEqual(['switched u2']);
    off();
  });
});

describe('refusals the app acts on', () => {
  let heard: string[];
  let off: () => void;
  beforeEach(() => {
    heard = [];
    off = onAuthProblem((p, m) => heard.push(`${p}: ${m}`));
  });
  afterEach(() => off());

  it('classifies statuses', () => {
    expect(authProblem(401, 'sign in')).toBe('signin');
    expect(authProblem(403, 'change your one-time password first (POST /api/v1/session/password)')).toBe('password');
    expect(authProblem(403, 'this needs the editor role')).toBeNull();
    expect(authProblem(403, 'missing or wrong X-CSRF-Token header')).toBeNull();
    expect(authProblem(409, 'conflict')).toBeNull();
    expect(isCsrfRefusal(403, 'missing or wrong X-CSRF-Token header')).toBe(true);
    expect(isCsrfRefusal(403, 'this needs the editor role')).toBe(false);
  });
  it('reports a 401 from any call, and still throws it to the caller', async () => {
    fakeFetch([json(401, { error: 'your session has ended; sign in again' })]);
    await expect(api.listFlows()).rejects.toBeInstanceOf(ApiError);
    expect(heard).toEqual(['signin: your session has ended; sign in again']);
  });
  it('reports the one-time password refusal', async () => {
    fakeFetch([json(403, { error: 'change your one-time password first (POST /api/v1/session/password)' })]);
    await expect(api.nodeTypes()).rejects.toMatchObject({ status: 403 });
    expect(heard).toEqual(['password: change your one-time password first (POST /api/v1/session/password)']);
  });
  it('does not report a role refusal: the page shows it', async () => {
    fakeFetch([json(403, { error: 'this needs the editor role' })]);
    await expect(api.publish('f', 'js', 1)).rejects.toMatchObject({ status: 403, message: 'this needs the editor role' });
    expect(heard).toEqual([]);
  });
  it('leaves the sign-in call its own 401 and 429', async () => {
    fakeFetch([json(401, { error: 'wrong name or password' }), json(429, { error: 'too many sign-in attempts; wait a little' }, { 'Retry-After': '6' })]);
    await expect(api.signIn('a', 'b')).rejects.toMatchObject({ status: 401 });
    const e = (await api.signIn('a', 'b').catch((x) => x)) as ApiError;
    expect(e.status).toBe(429);
    expect(e.retryAfter).toBe(6);
    expect(heard).toEqual([]);
  });
});

describe('Retry-After', () => {
  it('reads seconds and dates', () => {
    expect(parseRetryAfter('6')).toBe(6);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
