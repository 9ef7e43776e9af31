// Publishing: an invalid flow is refused with its problems (clickable, like
// the validation panel); a Go build shows its progress while it runs.
import { test, expect, nodeLocator, createFlowViaAPI } from './fixtures';

const doc = (name: string, condition: string) => ({
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

test('publishing an invalid flow lists its problems', async ({ page, api, guard }) => {
  await createFlowViaAPI(api, doc('publish-invalid', '"yes"'));
  await page.goto('/#/flows/publish-invalid');
  await expect(nodeLocator(page, 'check')).toBeVisible();
  guard.allow(/status of 422/);
  await page.getByRole('tab', { name: 'Publish' }).click();
  await page.getByTestId('publish').click();
  const problems = page.getByTestId('publish-problems');
  await expect(problems).toContainText('bool');
  await problems.locator('button.problem[data-node="check"]').click();
  await expect(page.getByTestId('node-panel')).toHaveAttribute('data-node', 'check');
  await expect(page.getByTestId('node-panel').locator('[data-field-path="condition"] .cm-content')).toBeFocused();
});

test('a Go build shows a spinner and the elapsed time', async ({ page, api }) => {
  test.skip(!!process.env.FLOWLINE_E2E_SKIP_GO, 'FLOWLINE_E2E_SKIP_GO is set');
  await createFlowViaAPI(api, doc('publish-go', 'request.query.ok == "1"'));
  await page.goto('/#/flows/publish-go');
  await page.getByRole('tab', { name: 'Publish' }).click();
  await page.getByRole('radio', { name: 'Go' }).check();
  await page.getByTestId('publish').click();
  await expect(page.getByTestId('publish')).toContainText(/Publishing… \d+\.\d s/);
  await expect(page.getByTestId('publish').locator('.spinner')).toBeVisible();
  await expect(page.getByTestId('published')).toContainText('Published version 1 (go)', { timeout: 300_000 });
  await expect(page.locator('tr[data-version="1"]')).toContainText('go');
});
