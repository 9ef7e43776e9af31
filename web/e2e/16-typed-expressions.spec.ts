// The designer knows the flow's types: completion of a node's declared
// fields before any run, a typo warned with the field meant, an impossible
// operation as an error underlined where it is, an expression's value from
// the last test run beside it, and a node's output pinned as sample data.
import { test, expect, nodeLocator, createFlowViaAPI, fillEditor, shotsDir } from './fixtures';

const doc = {
  version: 1,
  name: 'typed-orders',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'POST', path: '/typed-orders/:shop' }, position: { x: 40, y: 160 } },
    { id: 'set_1', type: 'set', config: { fields: [{ name: 'total', value: 'sum(request.body.items, .qty * .price)' }] }, position: { x: 300, y: 160 } },
    { id: 'big', type: 'if', config: { condition: 'nodes.set_1.total > 100' }, position: { x: 560, y: 160 } },
    { id: 'yes', type: 'response', config: { body: '{"big": true, "total": nodes.set_1.total}' }, position: { x: 820, y: 80 } },
    { id: 'no', type: 'response', config: { status: 202, body: '{"big": false}' }, position: { x: 820, y: 260 } },
  ],
  edges: [
    { from: 'start', to: 'set_1' },
    { from: 'set_1', to: 'big' },
    { from: 'big', to: 'yes', port: 'true' },
    { from: 'big', to: 'no', port: 'false' },
  ],
};

/** Types text into a field's editor (after clearing it), as a user does, key by key. */
async function typeInto(page: import('@playwright/test').Page, fieldPath: string, text: string) {
  const ed = page.getByTestId('node-panel').locator(`[data-field-path="${fieldPath}"] .cm-content`).first();
  await ed.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.type(text, { delay: 15 });
}

test('completion, typo warnings, readable errors, live values and pinned data', async ({ page, api }) => {
  await createFlowViaAPI(api, doc);
  await page.goto('/#/flows/typed-orders');
  // The flow's types come with its first analysis.
  await expect(page.getByTestId('problems-toggle')).toContainText('No problems');
  await nodeLocator(page, 'big').click();
  const panel = page.getByTestId('node-panel');
  await expect(panel).toHaveAttribute('data-node', 'big');
  const cond = panel.locator('[data-field-path="condition"]');

  // Completion of nodes.<id>. offers the fields the set node declares, with
  // their types, before any test run.
  await typeInto(page, 'condition', 'nodes.set_1.');
  const popup = page.locator('.cm-tooltip-autocomplete');
  await expect(popup).toBeVisible();
  await expect(popup.locator('li').first()).toContainText('total');
  await expect(popup.locator('li').first()).toContainText('number');
  await page.keyboard.press('Escape');

  // A typo: a warning that names the field meant, and an error for the
  // comparison it breaks, both underlined in the editor once typing pauses.
  await typeInto(page, 'condition', 'nodes.set_1.totl > 100');
  await expect(cond.getByTestId('field-warning')).toContainText('did you mean "total"?');
  await expect(cond.locator('.field-error')).toContainText('is nil here, and nil > number cannot work');
  await expect(cond.locator('.cm-lintRange-error')).toHaveText(['nodes.set_1.', 'totl', ' > 100']);
  await expect(page.getByTestId('problems-toggle')).toContainText('1 error, 1 warning');
  await page.screenshot({ path: `${shotsDir}/typed-expressions.png` });

  // == works with nil: only the warning, underlined on the field's name.
  await typeInto(page, 'condition', 'nodes.set_1.totl == 100');
  await expect(cond.locator('.cm-lintRange-warning')).toHaveText('totl');
  await expect(cond.locator('.field-error')).toHaveCount(0);

  // Plain words get a hint to quote them.
  await typeInto(page, 'condition', 'big order');
  await expect(cond.locator('.field-error')).toContainText('To write text, put it in quotes: "big order"');

  await fillEditor(page, 'condition', 'nodes.set_1.total > 100');
  await expect(cond.locator('.field-error')).toHaveCount(0);
  await expect(cond.getByTestId('field-warning')).toHaveCount(0);

  // A test run: each expression then shows its value from that run.
  await page.getByRole('tab', { name: 'Test' }).click();
  await fillEditor(page, 'test-body', JSON.stringify({ items: [{ qty: 3, price: 50 }] }), page.getByTestId('test-panel'));
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-status')).toHaveText('200');
  await nodeLocator(page, 'big').click();
  await expect(cond.getByTestId('live-value')).toHaveText('last run: true');
  await fillEditor(page, 'condition', 'nodes.set_1.total * 2');
  await expect(cond.getByTestId('live-value')).toHaveText('last run: 300');
  await expect(cond.locator('.field-error')).toContainText('the condition gives a number, not a bool');
  await fillEditor(page, 'condition', 'nodes.set_1.total > 100');
  await expect(cond.getByTestId('live-value')).toHaveText('last run: true');
  await expect(page.getByTestId('problems-toggle')).toHaveText(/^No problems/);
  await page.screenshot({ path: `${shotsDir}/live-values.png` });

  // Pin set_1's output, edit the pinned data's source away: the next run
  // uses the pinned output instead of running the node.
  await nodeLocator(page, 'set_1').click();
  await expect(panel).toHaveAttribute('data-node', 'set_1');
  await panel.getByTestId('pin-output').click();
  await expect(panel.getByTestId('pinned-data')).toContainText('150');
  await expect(nodeLocator(page, 'set_1').getByTestId('pin-badge')).toBeVisible();
  await page.getByRole('tab', { name: 'Test' }).click();
  await fillEditor(page, 'test-body', JSON.stringify({ items: [{ qty: 1, price: 5 }] }), page.getByTestId('test-panel'));
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-status')).toHaveText('200');
  await expect(page.getByTestId('test-result')).toContainText('150');
  await nodeLocator(page, 'set_1').click();
  await expect(panel.getByTestId('run-details')).toContainText('pinned');

  // Pins survive a reload; unpinned, the node runs again.
  await page.reload();
  await nodeLocator(page, 'set_1').click();
  await expect(panel.getByTestId('pinned-data')).toBeVisible();
  await panel.getByTestId('pinned-data').getByRole('button', { name: 'Unpin' }).click();
  await expect(panel.getByTestId('pinned-data')).toHaveCount(0);
  await expect(nodeLocator(page, 'set_1').getByTestId('pin-badge')).toHaveCount(0);
  await page.getByRole('tab', { name: 'Test' }).click();
  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-status')).toHaveText('202');
});

test('a node added from the palette follows the selected node, wired from its next free port', async ({ page, api }) => {
  await createFlowViaAPI(api, {
    version: 1,
    name: 'chain-add',
    nodes: [{ id: 'start', type: 'trigger.http', config: { method: 'POST', path: '/chain-add' }, position: { x: 40, y: 160 } }],
    edges: [],
  });
  await page.goto('/#/flows/chain-add');
  const add = async (type: string) => {
    await page.locator(`.palette-item[data-type="${type}"]`).focus();
    await page.keyboard.press('Enter');
  };
  await nodeLocator(page, 'start').click();
  await add('set');
  await expect(page.getByTestId('rf__edge-start:out->set_1')).toBeVisible();
  await add('if');
  await expect(page.getByTestId('rf__edge-set_1:out->if_1')).toBeVisible();
  await add('response');
  await expect(page.getByTestId('rf__edge-if_1:true->response_1')).toBeVisible();
  // The if is selected again: the next node takes its free port, placed apart from the first.
  await nodeLocator(page, 'if_1').click();
  await add('response');
  await expect(page.getByTestId('rf__edge-if_1:false->response_2')).toBeVisible();
  const box1 = (await nodeLocator(page, 'response_1').boundingBox())!;
  const box2 = (await nodeLocator(page, 'response_2').boundingBox())!;
  expect(box2.y >= box1.y + box1.height || box1.y >= box2.y + box2.height).toBe(true);

  // In if_1's condition, completion offers what runs before it, not if_1 itself.
  await nodeLocator(page, 'if_1').click();
  await typeInto(page, 'condition', 'nodes.');
  const popup = page.locator('.cm-tooltip-autocomplete');
  await expect(popup.locator('li').first()).toContainText('set_1');
  await expect(popup).not.toContainText('if_1');
  await page.keyboard.press('Escape');
});
