// Two people edit the same field of the same flow: the second save gets the
// conflict dialog with both versions, and "save a copy" keeps that person's
// edit as a new flow at a path of its own.
import { test, expect, nodeLocator, fillEditor, createFlowViaAPI, shotsDir } from './fixtures';

const doc = {
  version: 1,
  name: 'conflict-demo',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/conflict' }, position: { x: 40, y: 120 } },
    { id: 'reply', type: 'response', config: { body: '"original"' }, position: { x: 340, y: 120 } },
  ],
  edges: [{ from: 'start', to: 'reply' }],
};

test('a stale save shows the conflict dialog and can be saved as a copy', async ({ page, newPage, api, guard }) => {
  await createFlowViaAPI(api, doc);
  const a = page;
  const b = await newPage();
  for (const p of [a, b]) {
    await p.goto('/#/flows/conflict-demo');
    await expect(nodeLocator(p, 'reply')).toBeVisible();
  }

  // A edits and saves first.
  await nodeLocator(a, 'reply').click();
  await fillEditor(a, 'body', '"from A"');
  await expect(a.getByTestId('save-state')).toHaveText('Unsaved changes');
  await a.getByTestId('save').click();
  await expect(a.getByTestId('save-state')).toContainText('Saved · rev 2');

  // B, still on revision 1, edits and saves: 409.
  guard.allow(/status of 409/);
  await nodeLocator(b, 'reply').click();
  await fillEditor(b, 'body', '"from B"');
  await b.keyboard.press('ControlOrMeta+s');
  const dialog = b.getByTestId('conflict-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('saved by someone else');
  await expect(dialog.getByRole('button', { name: 'Reload (discard mine)' })).toBeVisible();
  const reply = dialog.getByTestId('conflict-node:reply');
  await expect(reply.locator('[data-side="theirs"]')).toContainText('from A');
  await expect(reply.locator('[data-side="mine"]')).toContainText('from B');
  await b.screenshot({ path: `${shotsDir}/save-conflict.png` });

  // Nothing is lost while the dialog is open.
  await dialog.getByRole('button', { name: 'Keep editing' }).click();
  await expect(b.getByTestId('save-state')).toHaveText('Unsaved changes');
  await expect(b.getByTestId('node-panel').locator('[data-field-path="body"] .cm-content')).toHaveText('"from B"');

  // Save again, then as a copy.
  await b.getByTestId('save').click();
  await dialog.getByRole('button', { name: 'Save a copy…' }).click();
  await expect(dialog.getByLabel('Copy name')).toHaveValue('conflict-demo-copy');
  // The copy gets a path of its own, so that both can be deployed; the same one is refused.
  const path = dialog.getByLabel('Copy path');
  await expect(path).toHaveValue('/conflict-copy');
  await path.fill('/conflict');
  await expect(dialog).toContainText('needs a path of its own');
  await expect(dialog.getByTestId('save-copy')).toBeDisabled();
  await path.fill('/conflict-b');
  await dialog.getByTestId('save-copy').click();
  await expect(b).toHaveURL(/#\/flows\/conflict-demo-copy$/);
  await expect(b.getByTestId('save-state')).toContainText('Saved');
  await expect(b.locator('.topbar .route')).toContainText('/conflict-b');
  await nodeLocator(b, 'reply').click();
  await expect(b.getByTestId('node-panel').locator('[data-field-path="body"] .cm-content')).toHaveText('"from B"');

  // The server holds both: A's edit in the flow, B's in the copy.
  const orig = await (await api.get('flows/conflict-demo')).json();
  const copy = await (await api.get('flows/conflict-demo-copy')).json();
  expect(orig.document.nodes[1].config.body).toBe('"from A"');
  expect(copy.document.nodes[1].config.body).toBe('"from B"');
  expect(copy.document.edges).toEqual(doc.edges);
  expect(orig.document.nodes[0].config.path).toBe('/conflict');
  expect(copy.document.nodes[0].config.path).toBe('/conflict-b');

  // The other way out: reload discards the local edit.
  await nodeLocator(a, 'reply').click();
  await fillEditor(a, 'body', '"A again"');
  await a.getByTestId('save').click();
  await expect(a.getByTestId('save-state')).toContainText('Saved · rev 3');
  const c = await newPage();
  await c.goto('/#/flows/conflict-demo');
  await nodeLocator(c, 'reply').click();
  await expect(c.getByTestId('node-panel').locator('[data-field-path="body"] .cm-content')).toHaveText('"A again"');
  await fillEditor(a, 'body', '"A, third"');
  await a.getByTestId('save').click();
  await expect(a.getByTestId('save-state')).toContainText('Saved · rev 4');
  await fillEditor(c, 'body', '"C loses"');
  await c.getByTestId('save').click();
  await c.getByTestId('conflict-dialog').getByRole('button', { name: 'Reload (discard mine)' }).click();
  await expect(c.getByTestId('conflict-dialog')).toBeHidden();
  await expect(c.getByTestId('save-state')).toContainText('Saved · rev 4');
  await nodeLocator(c, 'reply').click();
  await expect(c.getByTestId('node-panel').locator('[data-field-path="body"] .cm-content')).toHaveText('"A, third"');
});
