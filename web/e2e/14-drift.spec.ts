// Drift made visible: each version names the revision it was built from;
// the flows list and the Publish tab say "changes not published",
// "published, not deployed" or "live: vN"; older versions are rollbacks;
// deployments are named by version and target, not by their id. Also: test
// results go stale when the flow changes in meaning, Save & publish waits
// for errors to be fixed, the new-flow path follows the name, the publish
// target is remembered, the saved-requests menu fits the panel, and
// auto-layout keeps a readable zoom.
import type { APIRequestContext, Page } from '@playwright/test';
import { test, expect, nodeLocator, createFlowViaAPI, dragFromPalette, fillEditor, shotsDir, replyFlow, ifFlow } from './fixtures';

async function publishViaAPI(api: APIRequestContext, name: string, revision: number) {
  const v = await api.post(`flows/${name}/versions`, { data: { target: 'js', revision } });
  expect(v.status(), await v.text()).toBe(201);
  return (await v.json()).version as number;
}

async function stopAll(api: APIRequestContext, flow: string) {
  const deps = await (await api.get(`deployments?flow=${flow}`)).json();
  for (const d of deps ?? []) expect((await api.delete(`deployments/${d.id}`)).status()).toBe(204);
}

const row = (page: Page, flow: string) => page.locator(`tr[data-flow="${flow}"]`);

test('the flows list and the Publish tab show drift; older versions are rollbacks; deployments have names, not ids', async ({ page, api }) => {
  const name = 'drift-badges';
  await createFlowViaAPI(api, replyFlow(name));
  expect(await publishViaAPI(api, name, 1)).toBe(1);

  // Published, nothing runs.
  await page.goto('/');
  await expect(row(page, name).getByTestId('drift-undeployed')).toHaveText('published, not deployed');
  await expect(row(page, name).getByTestId('drift-unpublished')).toHaveCount(0);
  await expect(row(page, name).getByTestId('drift-live')).toHaveCount(0);

  // Deployed: everything is live.
  const d = await api.post(`flows/${name}/deployments`, { data: { version: 1, target: 'local' } });
  expect(d.status(), await d.text()).toBe(201);
  await page.reload();
  await expect(row(page, name).getByTestId('drift-live')).toHaveText('live: v1');
  await expect(row(page, name).getByTestId('drift-undeployed')).toHaveCount(0);

  // Saved since: the list says the changes are not published.
  const put = await api.put(`flows/${name}`, { data: replyFlow(name, '"two"'), headers: { 'If-Match': '1' } });
  expect(put.status(), await put.text()).toBe(200);
  await page.reload();
  await expect(row(page, name).getByTestId('drift-unpublished')).toHaveText('changes not published');
  await expect(row(page, name).getByTestId('drift-live')).toHaveCount(0);

  // The Publish tab says the same, with why.
  await row(page, name).getByRole('link', { name, exact: true }).click();
  await page.getByRole('tab', { name: 'Publish' }).click();
  const status = page.getByTestId('publish-status');
  await expect(status.getByTestId('drift-unpublished')).toHaveText('changes not published');
  await expect(status).toContainText('Saved revision 2 is newer than v1 (from revision 1)');
  await expect(page.locator('tr[data-version="1"]').getByTestId('version-label')).toHaveText('v1 · js · from revision 1');

  // Publishing v2: published, not deployed (v1 still runs).
  await page.getByRole('radio', { name: 'JavaScript' }).check();
  await page.getByTestId('publish').click();
  await expect(page.getByTestId('published')).toContainText('Published version 2 (js) from revision 2', { timeout: 60_000 });
  await expect(status.getByTestId('drift-undeployed')).toHaveText('published, not deployed');
  await expect(status.getByTestId('drift-unpublished')).toHaveCount(0);
  await expect(status).toContainText('v2 is not deployed; v1 is.');
  await page.screenshot({ path: `${shotsDir}/publish-drift.png` });
  const v1 = page.locator('tr[data-version="1"]');
  const v2 = page.locator('tr[data-version="2"]');
  await expect(v2.getByTestId('version-label')).toHaveText('v2 · js · from revision 2');
  await expect(v1.getByTestId('version-deployed')).toHaveText('deployed');
  await expect(v1.getByRole('button', { name: 'Redeploy…' })).toBeVisible();
  await expect(v2.getByRole('button', { name: 'Deploy v2…' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Rollback/ })).toHaveCount(0);

  // The flows list agrees.
  await page.goto('/');
  await expect(row(page, name).getByTestId('drift-undeployed')).toHaveText('published, not deployed');
  await expect(row(page, name).getByTestId('drift-unpublished')).toHaveCount(0);
  await row(page, name).getByRole('link', { name, exact: true }).click();
  await page.getByRole('tab', { name: 'Publish' }).click();

  // Deploying v2 replaces v1: v1 becomes a rollback, and all is live.
  await v2.getByRole('button', { name: 'Deploy v2…' }).click();
  const dialog = page.getByTestId('deploy-dialog');
  await expect(dialog.getByLabel('Version')).toHaveValue('2');
  await dialog.getByTestId('deploy-submit').click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
  await expect(v1.getByRole('button', { name: 'Rollback to v1…' })).toBeVisible({ timeout: 90_000 });
  await expect(v1).toHaveAttribute('data-action', 'rollback');
  await expect(v2.getByTestId('version-deployed')).toHaveText('deployed');
  await expect(status.getByTestId('drift-live')).toHaveText('live: v2');

  // The deployment is "v2 on local"; its id shows only short, whole in the title.
  const deps = (await (await api.get(`deployments?flow=${name}`)).json()) as { id: string; version: number }[];
  const running = deps.find((x) => x.version === 2)!;
  const card = page.getByTestId('deployment').filter({ has: page.getByTestId('deployment-name').getByText('v2 on local') });
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId('deployment-id')).toHaveText(`id ${running.id.slice(0, 8)}`);
  await expect(card.getByTestId('deployment-id')).toHaveAttribute('title', new RegExp(running.id));
  await expect(card).toHaveAttribute('data-status', 'running', { timeout: 90_000 });
  // Instances are "#1", not "<deployment id>-1".
  await expect(card.locator('.instances td').first()).toHaveText(/^#\d+$/);
  await expect(page.getByTestId('publish-panel')).not.toContainText(running.id);
  await expect(page.getByTestId('publish-panel')).not.toContainText((await d.json()).id);

  await stopAll(api, name);
});

test('test results go stale when the flow changes in meaning, not when nodes move', async ({ page, api }) => {
  const name = 'drift-stale';
  await createFlowViaAPI(api, replyFlow(name));
  await page.goto(`/#/flows/${name}`);
  await page.getByRole('tab', { name: 'Test' }).click();
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-status')).toHaveText('200');
  const legend = page.getByTestId('run-legend');
  await expect(legend).toHaveAttribute('data-stale', 'false');
  await expect(nodeLocator(page, 'reply').locator('.fnode')).toHaveAttribute('data-status', 'ok');

  // A move changes nothing a run did.
  const head = (await nodeLocator(page, 'reply').locator('.fnode-head').boundingBox())!;
  await page.mouse.move(head.x + 20, head.y + head.height / 2);
  await page.mouse.down();
  await page.mouse.move(head.x + 80, head.y + 90, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId('save-state')).toHaveText('Unsaved changes');
  await expect(legend).toHaveAttribute('data-stale', 'false');
  await expect(page.getByTestId('stale-note')).toHaveCount(0);

  // A new node: stale, and the new node is not "skipped": it was not there.
  await dragFromPalette(page, 'set', 420, 380);
  await expect(nodeLocator(page, 'set_1')).toBeVisible();
  await expect(legend).toHaveAttribute('data-stale', 'true');
  await expect(legend).toContainText('stale');
  await expect(page.locator('.react-flow.run-stale')).toHaveCount(1);
  await expect(nodeLocator(page, 'set_1').locator('.fnode')).toHaveAttribute('data-status', '');
  await expect(nodeLocator(page, 'reply').locator('.fnode')).toHaveAttribute('data-stale', 'true');
  await page.getByRole('tab', { name: 'Test' }).click();
  await expect(page.getByTestId('stale-note')).toHaveText('Stale: the flow changed since this run — run again.');

  // Undone, the flow means what it ran again.
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(nodeLocator(page, 'set_1')).toHaveCount(0);
  await expect(legend).toHaveAttribute('data-stale', 'false');
  await expect(page.getByTestId('stale-note')).toHaveCount(0);

  // A config change makes it stale; running again clears it.
  await nodeLocator(page, 'reply').click();
  await fillEditor(page, 'body', '"two"');
  await expect(legend).toHaveAttribute('data-stale', 'true');
  await page.getByRole('tab', { name: 'Test' }).click();
  await expect(page.getByTestId('stale-note')).toBeVisible();
  await page.screenshot({ path: 'test-results/stale-run.png' });
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-body')).toContainText('two');
  await expect(legend).toHaveAttribute('data-stale', 'false');
  await expect(page.getByTestId('stale-note')).toHaveCount(0);
  await expect(page.locator('.react-flow.run-stale')).toHaveCount(0);
});

test('Save & publish is disabled while the flow has errors, and says why', async ({ page, api }) => {
  const name = 'drift-errors';
  await createFlowViaAPI(api, ifFlow(name, 'request.query.ok == "1"'));
  await page.goto(`/#/flows/${name}`);
  // A condition that is not a bool is an error (not a warning).
  await nodeLocator(page, 'check').click();
  await fillEditor(page, 'condition', '"yes"');
  await expect(nodeLocator(page, 'check').getByTestId('problem-badge')).toBeVisible();
  await page.getByRole('tab', { name: 'Publish' }).click();
  const publish = page.getByTestId('publish');
  await expect(publish).toHaveText('Save & publish');
  await expect(publish).toBeDisabled();
  await expect(publish).toHaveAttribute('title', /^Fix \d+ errors? to publish$/);
  const note = page.getByTestId('publish-errors-note');
  await expect(note).toContainText(/Fix \d+ errors? to publish/);
  await expect(publish).toHaveAttribute('aria-describedby', (await note.getAttribute('id'))!);

  // Fixed, it can be saved and published again.
  await nodeLocator(page, 'check').click();
  await fillEditor(page, 'condition', 'request.query.ok == "yes"');
  await expect(nodeLocator(page, 'check').getByTestId('problem-badge')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Publish' }).click();
  await expect(publish).toBeEnabled();
  await expect(publish).toHaveText('Save & publish');
  await expect(note).toHaveCount(0);
  await expect(publish).not.toHaveAttribute('title', /Fix/);
});

test('a new flow path follows its name until the path is edited', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'New flow' }).click();
  const dialog = page.getByRole('dialog');
  const nameInput = dialog.getByLabel('Flow name');
  const pathInput = dialog.getByLabel('Trigger path');
  await expect(pathInput).toHaveValue('/');
  await nameInput.pressSequentially('orders');
  await expect(pathInput).toHaveValue('/orders');
  await nameInput.pressSequentially('-list');
  await expect(pathInput).toHaveValue('/orders-list');
  await pathInput.fill('/orders/:shop');
  await nameInput.fill('drift-prefill');
  await expect(pathInput).toHaveValue('/orders/:shop');
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page).toHaveURL(/#\/flows\/drift-prefill$/);
  await expect(page.locator('.topbar .route')).toContainText('/orders/:shop');
});

test('the publish target is remembered per flow, falls back to the last choice, and survives publishing and reloads', async ({ page, api }) => {
  // Both targets buildable, whatever this server has; a Go publish is
  // answered at once (building Go is tested in 08-publish).
  await page.route('**/api/v1/info', async (route) => {
    const res = await route.fetch();
    const info = await res.json();
    await route.fulfill({ response: res, json: { ...info, bundle_targets: [{ name: 'js', available: true }, { name: 'go', available: true }] } });
  });
  await page.route('**/api/v1/flows/drift-target-b/versions', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    await route.fulfill({ status: 201, json: { version: 1, target: 'go', revision: 1, created_at: new Date().toISOString() } });
  });
  await createFlowViaAPI(api, replyFlow('drift-target-a'));
  await createFlowViaAPI(api, replyFlow('drift-target-b'));
  const go = page.getByRole('radio', { name: 'Go' });
  const js = page.getByRole('radio', { name: 'JavaScript' });

  await page.goto('/#/flows/drift-target-a');
  await page.getByRole('tab', { name: 'Publish' }).click();
  await go.check();
  await page.reload();
  await page.getByRole('tab', { name: 'Publish' }).click();
  await expect(go).toBeChecked();

  // Another flow, never published: it starts with the last choice.
  await page.goto('/#/flows/drift-target-b');
  await page.getByRole('tab', { name: 'Publish' }).click();
  await expect(go).toBeChecked();
  await page.getByTestId('publish').click();
  await expect(page.getByTestId('published')).toContainText('Published version 1 (go)');
  await expect(go).toBeChecked();
  await page.reload();
  await page.getByRole('tab', { name: 'Publish' }).click();
  await expect(go).toBeChecked();

  // Per flow: JavaScript for b leaves a on Go.
  await js.check();
  await page.reload();
  await page.getByRole('tab', { name: 'Publish' }).click();
  await expect(js).toBeChecked();
  await page.goto('/#/flows/drift-target-a');
  await page.getByRole('tab', { name: 'Publish' }).click();
  await expect(go).toBeChecked();
});

test('the saved-requests menu fits the Test tab, long names shortened', async ({ page, api }) => {
  const name = 'drift-samples';
  await createFlowViaAPI(api, replyFlow(name));
  await page.goto(`/#/flows/${name}`);
  await page.getByRole('tab', { name: 'Test' }).click();
  const long = 'a-saved-request-with-a-rather-long-name-that-describes-everything-it-does-in-detail';
  await page.getByLabel('Sample name').fill(long);
  await page.getByRole('button', { name: 'Save sample' }).click();
  const menu = page.getByLabel('Saved requests');
  await expect(menu.locator('option')).toHaveCount(2);
  await expect(menu.locator(`option[value="${long}"]`)).toHaveAttribute('title', long);
  const panel = (await page.getByTestId('test-panel').boundingBox())!;
  const box = (await menu.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(panel.x - 1);
  expect(box.x + box.width).toBeLessThanOrEqual(panel.x + panel.width + 1);
  // Everything on the line stays inside the panel too.
  for (const el of [page.getByLabel('Sample name'), page.getByRole('button', { name: 'Save sample' })]) {
    const b = (await el.boundingBox())!;
    expect(b.x + b.width).toBeLessThanOrEqual(panel.x + panel.width + 1);
  }
  // Loading it still works.
  await menu.selectOption(long);
  await expect(page.getByLabel('Sample name')).toHaveValue(long);
});

async function viewportZoom(page: Page): Promise<number> {
  const t = await page.locator('.react-flow__viewport').evaluate((el) => getComputedStyle(el).transform);
  // matrix(a, b, c, d, e, f): a is the scale.
  const m = /matrix\(([^,]+),/.exec(t);
  return m ? Number(m[1]) : 1;
}

test('auto-layout keeps a readable zoom and shows the start of a large flow', async ({ page, api }) => {
  const name = 'drift-layout';
  const n = 40;
  const nodes: unknown[] = [{ id: 'start', type: 'trigger.http', config: { method: 'GET', path: `/${name}` }, position: { x: 0, y: 0 } }];
  const edges: unknown[] = [];
  let prev = 'start';
  for (let i = 1; i <= n; i++) {
    const id = `step_${i}`;
    nodes.push({ id, type: 'set', config: { fields: [{ name: 'x', value: String(i) }] }, position: { x: (i % 5) * 50, y: (i % 7) * 40 } });
    edges.push({ from: prev, to: id });
    prev = id;
  }
  nodes.push({ id: 'reply', type: 'response', config: { body: '"ok"' }, position: { x: 10, y: 10 } });
  edges.push({ from: prev, to: 'reply' });
  await createFlowViaAPI(api, { version: 1, name, nodes, edges });
  await page.goto(`/#/flows/${name}`);
  await expect(nodeLocator(page, 'step_40')).toBeAttached();

  await page.getByRole('button', { name: 'Auto-layout' }).click();
  // Wait for the animated move to end: the zoom stops changing.
  let last = -1;
  await expect
    .poll(async () => {
      const z = await viewportZoom(page);
      const settled = Math.abs(z - last) < 1e-6;
      last = z;
      return settled;
    }, { intervals: [200, 200, 200, 300, 500] })
    .toBe(true);
  const zoom = await viewportZoom(page);
  expect(zoom).toBeGreaterThanOrEqual(0.7);
  expect(zoom).toBeLessThanOrEqual(0.8);
  // The start is in view, at the left; the last node is not (the flow is wider than the view).
  const canvas = (await page.getByTestId('canvas').boundingBox())!;
  const start = (await nodeLocator(page, 'start').boundingBox())!;
  expect(start.x).toBeGreaterThanOrEqual(canvas.x);
  expect(start.x + start.width).toBeLessThanOrEqual(canvas.x + canvas.width / 2);
  expect(start.y).toBeGreaterThanOrEqual(canvas.y);
  expect(start.y + start.height).toBeLessThanOrEqual(canvas.y + canvas.height);
  await expect(nodeLocator(page, 'start')).toBeInViewport();
  await page.screenshot({ path: 'test-results/auto-layout-large.png' });
  await page.getByTestId('save').click();
  await expect(page.getByTestId('save-state')).toHaveText(/^Saved/);

  // A small flow is fitted whole, not zoomed in past the maximum.
  await createFlowViaAPI(api, replyFlow('drift-layout-small'));
  await page.goto('/#/flows/drift-layout-small');
  await expect(nodeLocator(page, 'reply')).toBeVisible();
  await page.getByRole('button', { name: 'Auto-layout' }).click();
  await expect.poll(() => viewportZoom(page)).toBeCloseTo(1.2, 2);
  for (const id of ['start', 'reply']) await expect(nodeLocator(page, id)).toBeInViewport({ ratio: 0.99 });
});
