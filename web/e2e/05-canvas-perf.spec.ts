// Canvas responsiveness with a generated 200-node flow: pan, zoom and drag a
// node while requestAnimationFrame measures frame times in the page. The
// figures go to test-results/perf.json and the log; they are not asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, createFlowViaAPI, nodeLocator } from './fixtures';

function bigFlow(n: number) {
  const cols = 20;
  const nodes: any[] = [{ id: 'start', type: 'trigger.http', config: { method: 'POST', path: '/big' }, position: { x: 0, y: 0 } }];
  for (let i = 1; i < n - 1; i++) {
    nodes.push({
      id: `step_${i}`,
      type: i % 7 === 0 ? 'if' : 'set',
      config: i % 7 === 0 ? { condition: `nodes.step_${i - 1} != nil` } : { fields: [{ name: `v${i}`, value: `${i} * 2` }] },
      position: { x: (i % cols) * 260, y: Math.floor(i / cols) * 170 },
    });
  }
  nodes.push({ id: 'done', type: 'response', config: { body: '{"ok": true}' }, position: { x: ((n - 1) % cols) * 260, y: Math.floor((n - 1) / cols) * 170 } });
  const edges: any[] = [];
  for (let i = 0; i < n - 1; i++) {
    const from = nodes[i];
    const e: any = { from: from.id, to: nodes[i + 1].id };
    if (from.type === 'if') e.port = 'true';
    edges.push(e);
    if (from.type === 'if') edges.push({ from: from.id, to: 'done', port: 'false' });
  }
  return { version: 1, name: 'big-canvas', nodes, edges };
}

async function measure(page: Page, action: () => Promise<void>) {
  await page.evaluate(() => {
    const w = window as any;
    w.__frames = [];
    w.__measuring = true;
    let last = performance.now();
    const tick = (t: number) => {
      w.__frames.push(t - last);
      last = t;
      if (w.__measuring) requestAnimationFrame(tick);
    };
    requestAnimationFrame((t) => {
      last = t;
      requestAnimationFrame(tick);
    });
  });
  await action();
  return page.evaluate(() => {
    const w = window as any;
    w.__measuring = false;
    return w.__frames as number[];
  });
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { frames: s.length, p50_ms: r(q(0.5)), p95_ms: r(q(0.95)), max_ms: r(s.at(-1) ?? 0) };
}

test('a 200-node flow stays responsive to pan, zoom and drag', async ({ page, api }) => {
  const doc = bigFlow(200);
  await createFlowViaAPI(api, doc);
  const t0 = Date.now();
  await page.goto('/#/flows/big-canvas');
  await expect(page.locator('.react-flow__node')).toHaveCount(200);
  await expect(page.locator('.react-flow__edge')).toHaveCount(doc.edges.length);
  const loadMs = Date.now() - t0;

  const canvas = (await page.getByTestId('canvas').boundingBox())!;
  const cx = canvas.x + canvas.width / 2;
  const cy = canvas.y + canvas.height / 2;

  // Pan: drag the empty pane (fitView leaves a margin at the top left).
  const pan = await measure(page, async () => {
    await page.mouse.move(canvas.x + 12, canvas.y + 12);
    await page.mouse.down();
    await page.mouse.move(canvas.x + 300, canvas.y + 200, { steps: 40 });
    await page.mouse.move(canvas.x + 60, canvas.y + 60, { steps: 40 });
    await page.mouse.up();
  });

  // Zoom in and out with the wheel.
  const zoom = await measure(page, async () => {
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 12; i++) {
      await page.mouse.wheel(0, -120);
      await page.waitForTimeout(16);
    }
    for (let i = 0; i < 6; i++) {
      await page.mouse.wheel(0, 120);
      await page.waitForTimeout(16);
    }
  });

  // Drag a node that is on screen.
  const visible = await page.evaluate(() => {
    const r = document.querySelector('[data-testid="canvas"]')!.getBoundingClientRect();
    for (const el of document.querySelectorAll<HTMLElement>('.react-flow__node')) {
      const b = el.getBoundingClientRect();
      if (b.left > r.left + 40 && b.right < r.right - 200 && b.top > r.top + 40 && b.bottom < r.bottom - 200) return el.dataset.id!;
    }
    return null;
  });
  expect(visible).not.toBeNull();
  const node = nodeLocator(page, visible!);
  const before = await node.getAttribute('style');
  const box = (await node.locator('.fnode-head').boundingBox())!;
  const drag = await measure(page, async () => {
    await page.mouse.move(box.x + 20, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 180, box.y + 140, { steps: 60 });
    await page.mouse.up();
  });
  await expect.poll(() => node.getAttribute('style')).not.toBe(before);

  const all = [...pan, ...zoom, ...drag];
  const result = {
    nodes: doc.nodes.length,
    edges: doc.edges.length,
    load_ms: loadMs,
    pan: stats(pan),
    zoom: stats(zoom),
    drag: stats(drag),
    all: stats(all),
    browser: 'chromium headless (software rendering)',
    measured_at: new Date().toISOString(),
  };
  const out = resolve(import.meta.dirname, '../test-results/perf.json');
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`canvas perf (${doc.nodes.length} nodes): p50 ${result.all.p50_ms} ms, p95 ${result.all.p95_ms} ms; ${JSON.stringify(result)}`);
});
