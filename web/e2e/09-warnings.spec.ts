// Warnings: advice from validation (here: retries on a POST http.request,
// which are never used). They show on the node and in the problems panel in
// amber, apart from errors, and never block saving or publishing.
import { test, expect, nodeLocator, createFlowViaAPI, fillEditor } from './fixtures';

const doc = {
  version: 1,
  name: 'warn-retries',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/warn-retries' }, position: { x: 40, y: 160 } },
    { id: 'notify', type: 'http.request', config: { method: 'POST', url: '"http://127.0.0.1:9/hook"', retries: 2 }, position: { x: 320, y: 160 } },
    { id: 'done', type: 'response', config: { body: '"ok"' }, position: { x: 620, y: 160 } },
  ],
  edges: [
    { from: 'start', to: 'notify' },
    { from: 'notify', to: 'done' },
  ],
};

test('a warning shows on the node and in the problems panel, and blocks neither save nor publish', async ({ page, api }) => {
  await createFlowViaAPI(api, doc);
  await page.goto('/#/flows/warn-retries');
  await expect(nodeLocator(page, 'notify')).toBeVisible();

  // The problems panel counts it as a warning, not an error, and labels it.
  await expect(page.getByTestId('problems-toggle')).toHaveText(/1 warning/);
  await expect(page.getByTestId('problems-toggle')).not.toContainText('error');
  await expect(page.getByTestId('problems-toggle').locator('.count')).toHaveClass(/warn/);
  const problem = page.getByTestId('problems').locator('button.problem[data-node="notify"]');
  await expect(problem).toHaveAttribute('data-severity', 'warning');
  await expect(problem).toContainText('warning');
  await expect(problem).toContainText('retries');

  // The node carries an amber warning badge, no error badge.
  const node = nodeLocator(page, 'notify');
  await expect(node.getByTestId('warning-badge')).toHaveText('⚠ 1');
  await expect(node.getByTestId('problem-badge')).toHaveCount(0);
  await expect(node.locator('.fnode')).toHaveClass(/has-warnings/);
  await expect(node.locator('.fnode')).not.toHaveClass(/has-problems/);

  // Clicking it opens the node; the retries field shows the warning, not as invalid.
  await problem.click();
  const panel = page.getByTestId('node-panel');
  await expect(panel).toHaveAttribute('data-node', 'notify');
  const retries = panel.locator('[data-field-path="retries"]');
  await expect(retries.getByTestId('field-warning')).toContainText('warning');
  await expect(retries).not.toHaveClass(/invalid/);

  // An edit: Save is enabled and saves, the warning stays a warning.
  await fillEditor(page, 'url', '"http://127.0.0.1:9/hook2"');
  await expect(page.getByTestId('save')).toBeEnabled();
  await page.getByTestId('save').click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved · rev 2');
  await expect(page.getByTestId('problems-toggle')).toHaveText(/1 warning/);

  // Another edit, then Save & publish: it saves and publishes what it saved.
  await fillEditor(page, 'url', '"http://127.0.0.1:9/hook3"');
  await page.getByRole('tab', { name: 'Publish' }).click();
  await page.getByRole('radio', { name: 'JavaScript' }).check();
  const publish = page.getByTestId('publish');
  await expect(publish).toBeEnabled();
  await expect(publish).toHaveText('Save & publish');
  await publish.click();
  await expect(page.getByTestId('published')).toContainText('Published version 1 (js) from revision 3', { timeout: 60_000 });
  await expect(page.getByTestId('save-state')).toHaveText('Saved · rev 3');
  await expect(page.getByTestId('publish-problems')).toHaveCount(0);
  await expect(page.getByTestId('problems-toggle')).toHaveText(/1 warning/);
});
