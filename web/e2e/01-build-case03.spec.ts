// Conformance case 03 built by hand: from an empty canvas, by dragging node
// types from the palette and connecting ports with the mouse; then tested in
// the designer, published as JS, deployed locally and called on its live URL.
import { test, expect, dragFromPalette, connect, fillEditor, setNodeId, nodeLocator, conformanceCase, shotsDir } from './fixtures';

const c03 = conformanceCase('03-transform.json');

function stripPositions(doc: any) {
  return { ...doc, nodes: doc.nodes.map(({ position: _p, ...n }: any) => n) };
}

test('build case 03 from an empty canvas, test, publish, deploy and call it', async ({ page, api, gatewayURL, guard }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Flows' })).toBeVisible();

  // Create the flow with its trigger.
  await page.getByRole('button', { name: 'New flow' }).click();
  await page.getByLabel('Flow name').fill('transform');
  await page.getByLabel('Trigger method').selectOption('POST');
  await page.getByLabel('Trigger path').fill('/orders');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page).toHaveURL(/#\/flows\/transform$/);
  await expect(nodeLocator(page, 'start')).toBeVisible();

  // The palette comes from the server's node types, with descriptions.
  await expect(page.locator('.palette-item[data-type="set"] .pi-desc')).not.toBeEmpty();
  await page.getByLabel('Search nodes').fill('branch');
  await expect(page.locator('.palette-item[data-type="if"]')).toBeVisible();
  await expect(page.locator('.palette-item[data-type="set"]')).toHaveCount(0);
  await page.getByLabel('Search nodes').fill('');

  // calc: a set node with two fields.
  await dragFromPalette(page, 'set', 400, 110);
  await expect(nodeLocator(page, 'set_1')).toBeVisible();
  await setNodeId(page, 'calc');
  const panel = page.getByTestId('node-panel');
  await panel.getByRole('button', { name: '+ add field' }).click();
  await panel.getByRole('button', { name: '+ add field' }).click();
  await panel.locator('[data-field-path="fields[0].name"] input').fill('total');
  await fillEditor(page, 'fields[0].value', 'sum(request.body.items, .qty * .price)');
  await panel.locator('[data-field-path="fields[1].name"] input').fill('expensive');
  await fillEditor(page, 'fields[1].value', 'map(filter(request.body.items, .price > 10), ({"sku": .sku, "qty": .qty}))');

  // big: an if node.
  await dragFromPalette(page, 'if', 400, 340);
  await setNodeId(page, 'big');
  await fillEditor(page, 'condition', 'nodes.calc.total > 100');

  // disc: a set node; completion offers the flow's node ids after "nodes.".
  await dragFromPalette(page, 'set', 680, 250);
  await setNodeId(page, 'disc');
  await panel.getByRole('button', { name: '+ add field' }).click();
  await panel.locator('[data-field-path="fields[0].name"] input').fill('discount');
  const value = panel.locator('[data-field-path="fields[0].value"] .cm-content');
  await value.click();
  await page.keyboard.type('nodes.');
  await expect(page.locator('.cm-tooltip-autocomplete')).toContainText('calc');
  await page.keyboard.press('Escape');
  await fillEditor(page, 'fields[0].value', 'nodes.calc.total * 0.1');

  // The two responses.
  await dragFromPalette(page, 'response', 680, 450);
  await setNodeId(page, 'resp_big');
  await fillEditor(page, 'body', c03.flow.nodes[4].config.body);
  await dragFromPalette(page, 'response', 400, 560);
  await setNodeId(page, 'resp_small');
  await fillEditor(page, 'body', c03.flow.nodes[5].config.body);

  // Connect the ports, handle to handle.
  await connect(page, 'start', 'out', 'calc');
  await connect(page, 'calc', 'out', 'big');
  await connect(page, 'big', 'true', 'disc');
  await connect(page, 'disc', 'out', 'resp_big');
  await connect(page, 'big', 'false', 'resp_small');
  await expect(page.getByTestId('rf__edge-big:true->disc')).toContainText('true');

  // Validation agrees, then save with Ctrl+S.
  await expect(page.getByTestId('problems-toggle')).toContainText('No problems', { timeout: 15_000 });

  // Auto-layout moves the nodes; undo puts them back, redo again, undo again.
  const where = () => nodeLocator(page, 'disc').getAttribute('style');
  const before = await where();
  await page.getByRole('button', { name: 'Auto-layout' }).click();
  await expect.poll(where).not.toBe(before);
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
  await page.keyboard.press('ControlOrMeta+z');
  await expect.poll(where).toBe(before);
  await page.keyboard.press('ControlOrMeta+Shift+z');
  await expect.poll(where).not.toBe(before);
  await page.keyboard.press('ControlOrMeta+z');
  await expect.poll(where).toBe(before);

  await page.keyboard.press('ControlOrMeta+s');
  await expect(page.getByTestId('save-state')).toContainText('Saved');

  // What was saved is case 03's flow (positions aside).
  const saved = await (await api.get('flows/transform')).json();
  expect(stripPositions(saved.document)).toEqual(c03.flow);
  expect(saved.document.nodes.every((n: any) => n.position && typeof n.position.x === 'number')).toBe(true);

  // Select a node to show its form next to the canvas.
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  await nodeLocator(page, 'calc').click();
  await page.screenshot({ path: `${shotsDir}/canvas-config-panel.png` });

  // Test run in the designer, with the first request of case 03.
  const req = c03.requests[0].request;
  await page.getByRole('tab', { name: 'Test' }).click();
  await page.getByLabel('Request method').selectOption(req.method);
  await page.getByLabel('Request path').fill(req.path);
  await fillEditor(page, 'test-body', JSON.stringify(req.body, null, 2), page.getByTestId('test-panel'));
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-status')).toHaveText('200');
  const body = JSON.parse(await page.getByTestId('response-body').innerText());
  expect(body.total).toBe(120);
  expect(body.discount).toBe(12);
  expect(body).toEqual(c03.requests[0].expect.body);

  // The canvas shows which nodes ran, and the skipped branch.
  for (const id of ['start', 'calc', 'big', 'disc', 'resp_big']) await expect(nodeLocator(page, id).locator('.fnode')).toHaveAttribute('data-status', 'ok');
  await expect(nodeLocator(page, 'resp_small').locator('.fnode')).toHaveAttribute('data-status', 'skipped');
  await page.screenshot({ path: `${shotsDir}/test-results-canvas.png` });
  // A node's own input and output from the trace.
  await nodeLocator(page, 'calc').click();
  await expect(page.getByTestId('run-details')).toBeVisible();
  expect(JSON.parse(await page.getByTestId('span-output').innerText())).toMatchObject({ total: 120 });
  await page.screenshot({ path: `${shotsDir}/test-node-trace.png` });

  // Publish as JavaScript.
  await page.getByRole('tab', { name: 'Publish' }).click();
  await page.getByRole('radio', { name: 'JavaScript' }).check();
  await page.getByTestId('publish').click();
  await expect(page.getByTestId('published')).toContainText('Published version 1', { timeout: 120_000 });

  // Deploy locally: the empty deployments list says how.
  await expect(page.getByTestId('no-deployments')).toHaveText('Not deployed. Deploy a version from Versions below.');
  await page.getByTestId('published').getByRole('button', { name: 'Deploy it…' }).click();
  const dialog = page.getByTestId('deploy-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('radio', { name: /nomad/ })).toBeDisabled();
  await dialog.getByLabel('Max instances').fill('2');
  await page.screenshot({ path: `${shotsDir}/deploy-dialog.png` });
  await dialog.getByTestId('deploy-submit').click();
  await expect(dialog).toBeHidden({ timeout: 60_000 });
  const dep = page.getByTestId('deployment').first();
  await expect(dep).toHaveAttribute('data-status', 'running', { timeout: 90_000 });
  await expect(page.getByTestId('published')).toContainText('It is deployed.');
  const liveURL = await dep.getByTestId('live-url').innerText();
  expect(liveURL).toBe(`${gatewayURL}/orders`);
  await expect(dep.getByTestId('curl')).toContainText(`curl -i -X POST '${gatewayURL}/orders'`);

  // Call the live URL from the test: case 03's requests and responses.
  for (const { request, expect: want } of c03.requests) {
    const res = await page.request.fetch(`${gatewayURL}${request.path}`, {
      method: request.method,
      headers: { 'content-type': request.content_type ?? 'application/json' },
      data: Buffer.from(request.raw_body ?? JSON.stringify(request.body)),
    });
    const got = await res.json();
    expect(res.status(), JSON.stringify(got)).toBe(want.status);
    if (want.status === 200) {
      expect(got).toEqual(want.body);
      expect(res.headers()['content-type']).toMatch(/^application\/json/);
    } else {
      expect(got.error).toMatch(/json/i);
      expect(got.trace_id).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(res.headers()['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
  }

  // The live log view follows the deployment.
  await dep.getByRole('button', { name: 'Logs' }).click();
  const logs = page.getByTestId('logs-view');
  await expect(logs).toBeVisible();
  await expect(logs.locator('.live-dot')).toHaveClass(/live/);
  await expect(logs).toContainText(/ready/);
  await page.screenshot({ path: `${shotsDir}/publish-deployments.png` });

  // The flows list shows the published and deployed state.
  await page.goto('/');
  const row = page.locator('tr[data-flow="transform"]');
  await expect(row).toContainText('v1 · js');
  await expect(row).toContainText('running');
  await page.screenshot({ path: `${shotsDir}/flows-list.png` });

  // The API refuses to delete a deployed flow; the list says why.
  guard.allow(/status of 409/);
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('dialog').getByRole('alert')).toContainText(/deploy/i);
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // Stop the deployment, so the flow can be deleted and the path is free again.
  const deps = await (await api.get('deployments?flow=transform')).json();
  for (const d of deps) expect((await api.delete(`deployments/${d.id}`)).status()).toBe(204);
});
