// A validation problem, reached by clicking it: the node is selected, its form
// is open, and the field is focused and marked.
import { test, expect, nodeLocator, fillEditor, createFlowViaAPI, shotsDir } from './fixtures';

const doc = {
  version: 1,
  name: 'validation-demo',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'POST', path: '/check' }, position: { x: 40, y: 160 } },
    { id: 'check', type: 'if', config: { condition: '"yes"' }, position: { x: 320, y: 160 } },
    { id: 'yes', type: 'response', config: { body: '"yes"' }, position: { x: 620, y: 60 } },
    { id: 'no', type: 'response', config: { status: 400, body: '"no"' }, position: { x: 620, y: 280 } },
  ],
  edges: [
    { from: 'start', to: 'check' },
    { from: 'check', to: 'yes', port: 'true' },
    { from: 'check', to: 'no', port: 'false' },
  ],
};

test('clicking a problem selects the node and focuses the marked field', async ({ page, api }) => {
  await createFlowViaAPI(api, doc);
  await page.goto('/#/flows/validation-demo');
  await expect(nodeLocator(page, 'check')).toBeVisible();

  // The problem is listed and the node carries a badge.
  const problem = page.getByTestId('problems').locator('button.problem[data-node="check"]');
  await expect(problem).toBeVisible();
  await expect(problem).toContainText('condition');
  await expect(nodeLocator(page, 'check').getByTestId('problem-badge')).toHaveText('1');
  await expect(nodeLocator(page, 'check')).not.toHaveClass(/selected/);

  await problem.click();
  await expect(nodeLocator(page, 'check')).toHaveClass(/selected/);
  const panel = page.getByTestId('node-panel');
  await expect(panel).toHaveAttribute('data-node', 'check');
  const field = panel.locator('[data-field-path="condition"]');
  await expect(field).toHaveClass(/invalid/);
  await expect(field.locator('.field-error')).toContainText(/bool/);
  await expect(field.locator('.cm-content')).toBeFocused();
  await page.screenshot({ path: `${shotsDir}/validation-problem.png` });

  // Fixing it clears the marks.
  await fillEditor(page, 'condition', 'request.body.ok == true');
  await expect(page.getByTestId('problems-toggle')).toContainText('No problems');
  await expect(field).not.toHaveClass(/invalid/);
  await expect(nodeLocator(page, 'check').getByTestId('problem-badge')).toHaveCount(0);

  // Problems inside a list point at the row's field.
  await page.getByTestId('save').click();
  await expect(page.getByTestId('save-state')).toContainText('Saved');
});
