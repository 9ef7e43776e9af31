// Shared fixtures: the server's address, pages signed in as the admin, the
// API as the admin (bearer token), a guard that fails a test on any browser
// console error or page error, and helpers that drive the canvas with the
// real mouse.
import { test as base, expect, type Browser, type Page, type APIRequestContext } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { API_TOKEN, storageStatePath } from './credentials';

export type ConsoleGuard = {
  /** Allows console errors matching re (an HTTP status the test provokes on purpose). */
  allow: (re: RegExp) => void;
  watch: (page: Page) => void;
};

type Fixtures = {
  guard: ConsoleGuard;
  /** A page in a new browser context: signed in as the admin, unless signedIn is false (nobody). */
  newPage: (opts?: { signedIn?: boolean }) => Promise<Page>;
  /** The API (base .../api/v1/) as the admin, by the configured bearer token. */
  api: APIRequestContext;
  /** The API with another bearer token (or none: ''). */
  apiWith: (token: string) => Promise<APIRequestContext>;
  gatewayURL: string;
};

export const test = base.extend<Fixtures>({
  baseURL: async ({}, use) => {
    const url = process.env.FLOWLINE_URL;
    if (!url) throw new Error('FLOWLINE_URL is not set: the global setup did not start the server');
    await use(url);
  },
  // The default page starts signed in as the admin (the cookie the global setup saved).
  storageState: async ({}, use) => {
    await use(storageStatePath);
  },
  gatewayURL: async ({}, use) => {
    await use(process.env.FLOWLINE_GATEWAY_URL!);
  },
  guard: [
    async ({}, use, testInfo) => {
      const errors: string[] = [];
      const allowed: RegExp[] = [];
      const watch = (page: Page) => {
        const label = `page ${watched++}`;
        page.on('console', (msg) => {
          if (msg.type() !== 'error') return;
          const text = msg.text();
          if (allowed.some((re) => re.test(text))) return;
          errors.push(`${label} console error: ${text} (${msg.location().url}:${msg.location().lineNumber})`);
        });
        page.on('pageerror', (err) => errors.push(`${label} page error: ${err.message}\n${err.stack ?? ''}`));
      };
      let watched = 1;
      await use({ allow: (re) => allowed.push(re), watch });
      if (errors.length) {
        await testInfo.attach('console-errors', { body: errors.join('\n\n'), contentType: 'text/plain' });
        throw new Error(`browser console errors:\n${errors.join('\n')}`);
      }
    },
    { auto: true },
  ],
  page: async ({ page, guard }, use) => {
    guard.watch(page);
    await use(page);
  },
  newPage: async ({ browser, guard, baseURL }, use) => {
    const contexts: Awaited<ReturnType<Browser['newContext']>>[] = [];
    await use(async (opts = {}) => {
      const ctx = await browser.newContext({
        baseURL,
        viewport: { width: 1440, height: 900 },
        acceptDownloads: true,
        storageState: opts.signedIn === false ? undefined : storageStatePath,
      });
      contexts.push(ctx);
      const p = await ctx.newPage();
      guard.watch(p);
      return p;
    });
    for (const c of contexts) await c.close();
  },
  api: async ({ apiWith }, use) => {
    await use(await apiWith(API_TOKEN));
  },
  apiWith: async ({ playwright, baseURL }, use) => {
    const made: APIRequestContext[] = [];
    await use(async (token) => {
      const ctx = await playwright.request.newContext({
        baseURL: `${baseURL}/api/v1/`,
        extraHTTPHeaders: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      });
      made.push(ctx);
      return ctx;
    });
    for (const c of made) await c.dispose();
  },
});

export { expect };

export const shotsDir = resolve(import.meta.dirname, '../../docs/screenshots');

export function conformanceCase(file: string): { name: string; flow: any; requests: { request: any; expect: any }[] } {
  // The shared conformance cases live beside the checkout (shared/conformance),
  // or where FLOWLINE_CONFORMANCE_DIR says; they are read, never copied.
  const dir = process.env.FLOWLINE_CONFORMANCE_DIR ?? resolve(import.meta.dirname, '..', '..', '..', 'shared', 'conformance');
  return JSON.parse(readFileSync(resolve(dir, 'cases', file), 'utf8'));
}

/** Drags a node type from the palette to (x, y) inside the canvas, with the mouse. */
export async function dragFromPalette(page: Page, type: string, x: number, y: number) {
  const item = page.locator(`.palette-item[data-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  const from = (await item.boundingBox())!;
  const canvas = (await page.getByTestId('canvas').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + 12);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 20, from.y + 20, { steps: 3 });
  await page.mouse.move(canvas.x + x, canvas.y + y, { steps: 15 });
  await page.mouse.up();
}

export const nodeLocator = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

/** Connects port `port` of node `from` to node `to` by dragging from handle to handle. */
export async function connect(page: Page, from: string, port: string, to: string) {
  const src = nodeLocator(page, from).locator(`.react-flow__handle.source[data-handleid="${port}"]`);
  const dst = nodeLocator(page, to).locator('.react-flow__handle.target');
  const a = (await src.boundingBox())!;
  const b = (await dst.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  // Stay inside the canvas on the way: near its edges React Flow pans.
  await page.mouse.move(a.x + (b.x - a.x) * 0.2, a.y + (b.y - a.y) * 0.2, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 15 });
  await page.mouse.up();
  await expect(page.getByTestId(`rf__edge-${from}:${port}->${to}`)).toHaveCount(1);
}

/** Replaces the text of the CodeMirror editor inside the given field. */
export async function fillEditor(page: Page, fieldPath: string, text: string, scope = page.getByTestId('node-panel')) {
  const ed = scope.locator(`[data-field-path="${fieldPath}"] .cm-content`).first();
  await ed.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await page.keyboard.press('Escape');
}

export async function setNodeId(page: Page, id: string) {
  const input = page.getByTestId('node-panel').getByLabel('Node id');
  await input.fill(id);
  await input.press('Enter');
  await expect(page.getByTestId('node-panel')).toHaveAttribute('data-node', id);
}

export async function createFlowViaAPI(api: APIRequestContext, doc: unknown) {
  const r = await api.post('flows', { data: doc });
  expect(r.status(), await r.text()).toBe(201);
  return r.json();
}

/** A flow of a GET trigger at /<name> and a response with body (an expression). */
export const replyFlow = (name: string, body = '"one"') => ({
  version: 1,
  name,
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: `/${name}` }, position: { x: 40, y: 140 } },
    { id: 'reply', type: 'response', config: { body }, position: { x: 340, y: 140 } },
  ],
  edges: [{ from: 'start', to: 'reply' }],
});

/** A flow that branches on condition (node `check`) to the responses `yes` and `no`. */
export const ifFlow = (name: string, condition: string) => ({
  version: 1,
  name,
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: `/${name}` }, position: { x: 40, y: 160 } },
    { id: 'check', type: 'if', config: { condition }, position: { x: 320, y: 160 } },
    { id: 'yes', type: 'response', config: { body: '"yes"' }, position: { x: 620, y: 60 } },
    { id: 'no', type: 'response', config: { body: '"no"' }, position: { x: 620, y: 280 } },
  ],
  edges: [
    { from: 'start', to: 'check' },
    { from: 'check', to: 'yes', port: 'true' },
    { from: 'check', to: 'no', port: 'false' },
  ],
});
