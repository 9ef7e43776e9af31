// Everyday editing on the canvas: copy/paste, delete, undo/redo of form
// edits, renaming a node id, switch ports following the cases, and the
// warning before leaving unsaved work.
import { test, expect, nodeLocator, fillEditor, createFlowViaAPI, setNodeId } from './fixtures';

const doc = {
  version: 1,
  name: 'editing-demo',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/edit' }, position: { x: 40, y: 160 } },
    { id: 'calc', type: 'set', config: { fields: [{ name: 'n', value: '1 + 1' }] }, position: { x: 320, y: 160 } },
    { id: 'done', type: 'response', config: { body: '{"n": nodes.calc.n}' }, position: { x: 620, y: 160 } },
  ],
  edges: [
    { from: 'start', to: 'calc' },
    { from: 'calc', to: 'done' },
  ],
};

test('copy, paste, delete, undo, rename and leave', async ({ page, api }) => {
  await createFlowViaAPI(api, doc);
  await page.goto('/#/flows/editing-demo');
  await expect(nodeLocator(page, 'calc')).toBeVisible();

  // Copy and paste a node: it gets a fresh id from its type.
  await nodeLocator(page, 'calc').click();
  await page.keyboard.press('ControlOrMeta+c');
  await page.keyboard.press('ControlOrMeta+v');
  await expect(nodeLocator(page, 'set_1')).toBeVisible();
  await expect(nodeLocator(page, 'set_1')).toHaveClass(/selected/);

  // Delete it with the keyboard; undo brings it back, redo removes it again.
  await page.keyboard.press('Delete');
  await expect(nodeLocator(page, 'set_1')).toHaveCount(0);
  await page.keyboard.press('ControlOrMeta+z');
  await expect(nodeLocator(page, 'set_1')).toBeVisible();
  await page.keyboard.press('ControlOrMeta+Shift+z');
  await expect(nodeLocator(page, 'set_1')).toHaveCount(0);

  // A form edit is one undo step.
  await nodeLocator(page, 'calc').click();
  await fillEditor(page, 'fields[0].value', '40 + 2');
  await expect(nodeLocator(page, 'calc')).toContainText('n');
  await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
  await page.getByRole('button', { name: 'Undo' }).click();
  await nodeLocator(page, 'calc').click();
  await expect(page.getByTestId('node-panel').locator('[data-field-path="fields[0].value"] .cm-content')).toHaveText('1 + 1');

  // Renaming a node id follows its edges and the expressions that name it.
  await setNodeId(page, 'total');
  await expect(nodeLocator(page, 'total')).toBeVisible();
  await nodeLocator(page, 'done').click();
  await expect(page.getByTestId('node-panel').locator('[data-field-path="body"] .cm-content')).toHaveText('{"n": nodes.total.n}');
  await expect(page.getByTestId('rf__edge-total:out->done')).toHaveCount(1);
  // A bad id is refused on the spot.
  const idInput = page.getByTestId('node-panel').getByLabel('Node id');
  await idInput.fill('9lives');
  await expect(page.getByTestId('node-panel').locator('[data-field-path="id"]')).toHaveClass(/invalid/);
  await idInput.press('Escape');

  // A switch's ports follow its cases.
  await page.locator('.palette-item[data-type="switch"]').focus();
  await page.keyboard.press('Enter');
  await expect(nodeLocator(page, 'switch_1')).toBeVisible();
  const handles = nodeLocator(page, 'switch_1').locator('.react-flow__handle.source');
  await expect(handles).toHaveCount(2);
  await page.getByTestId('node-panel').getByRole('button', { name: '+ add case' }).click();
  await page.getByTestId('node-panel').locator('[data-field-path="cases[0].port"] input').fill('vip');
  await expect(handles).toHaveCount(3);
  await expect(nodeLocator(page, 'switch_1').locator('.react-flow__handle.source[data-handleid="vip"]')).toHaveCount(1);

  // Leaving with unsaved changes asks first.
  await page.getByRole('link', { name: '← Flows' }).click();
  const dialog = page.getByRole('dialog', { name: 'Unsaved changes' });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Stay' }).click();
  await expect(page).toHaveURL(/#\/flows\/editing-demo$/);
  await page.getByRole('link', { name: '← Flows' }).click();
  await dialog.getByRole('button', { name: 'Leave without saving' }).click();
  await expect(page.getByRole('heading', { name: 'Flows' })).toBeVisible();
  const stored = await (await api.get('flows/editing-demo')).json();
  expect(stored.revision).toBe(1);
});
