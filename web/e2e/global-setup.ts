// Starts the Flowline server for the browser tests: the binary from
// FLOWLINE_BIN (default ../bin/flowline relative to web/), free ports, a fresh
// temporary data directory, the designer served from web/dist, a first admin
// and an admin API token from e2e/credentials.ts. Signs the admin in once and
// saves the session cookie, so that pages start signed in. Tests read the
// addresses from FLOWLINE_URL and FLOWLINE_GATEWAY_URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { request } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER, API_TOKEN, storageStatePath } from './credentials';

const webDir = resolve(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => ok(port));
    });
  });
}

async function waitUp(url: string, child: ChildProcess, ms: number) {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}; see test-results/server.log`);
    try {
      const r = await fetch(url, { headers: { Authorization: `Bearer ${API_TOKEN}` } });
      if (r.ok) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server did not answer ${url} in ${ms} ms (${last}); see test-results/server.log`);
}

/** Signs the admin in through the API and saves the session cookie for the pages. */
async function signIn(url: string) {
  const ctx = await request.newContext({ baseURL: url });
  try {
    const r = await ctx.post('/api/v1/session', { data: { name: ADMIN_USER, password: ADMIN_PASSWORD } });
    if (r.status() !== 200) throw new Error(`signing in as ${ADMIN_USER} failed: ${r.status()} ${await r.text()}`);
    mkdirSync(dirname(storageStatePath), { recursive: true });
    await ctx.storageState({ path: storageStatePath });
  } finally {
    await ctx.dispose();
  }
}

export default async function globalSetup() {
  const bin = resolve(webDir, process.env.FLOWLINE_BIN ?? '../bin/flowline');
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: run "go build -o bin/flowline ./cmd/flowline" at the repository root, or set FLOWLINE_BIN`);
  const dist = resolve(webDir, 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('web/dist has no index.html: run "npm run build" first');

  const [port, gatewayPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'flowline-e2e-'));
  mkdirSync(resolve(webDir, 'test-results'), { recursive: true });
  const log = createWriteStream(resolve(webDir, 'test-results/server.log'));
  const child = spawn(bin, ['serve'], {
    cwd: resolve(webDir, '..'),
    env: {
      ...process.env,
      FLOWLINE_ADDR: `127.0.0.1:${port}`,
      FLOWLINE_GATEWAY_ADDR: `127.0.0.1:${gatewayPort}`,
      FLOWLINE_DATA_DIR: dataDir,
      FLOWLINE_WEB_DIR: dist,
      FLOWLINE_ADMIN_USER: ADMIN_USER,
      FLOWLINE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      FLOWLINE_API_TOKEN: API_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the instances it starts go down with it.
    detached: true,
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUp(`${url}/api/v1/info`, child, 60_000);
    await signIn(url);
  } catch (e) {
    await stop();
    throw e;
  }
  process.env.FLOWLINE_URL = url;
  process.env.FLOWLINE_GATEWAY_URL = `http://127.0.0.1:${gatewayPort}`;
  return stop;
}
