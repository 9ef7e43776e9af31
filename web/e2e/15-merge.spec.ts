// A save that meets someone else's merges with it: changes that do not
// overlap are saved together without asking; overlapping ones are chosen
// per node; overwriting theirs takes a second, explicit step.
import { test, expect, nodeLocator, fillEditor, createFlowViaAPI, shotsDir } from './fixtures';
import type { APIRequestContext, Page } from '@playwright/test';

function flow(name: string) {
  return {
    version: 1,
    name,
    nodes: [
      { id: 'start', type: 'trigger.http', config: { method: 'GET', path: `/${name}` }, position: { x: 40, y: 120 } },
      { id: 'note', type: 'log', config: { level: 'info', message: '"base note"' }, position: { x: 300, y: 120 } },
      { id: 'reply', type: 'response', config: { body: '"base reply"' }, position: { x: 560, y: 120 } },
    ],
    edges: [
      { from: 'start', to: 'note' },
      { from: 'note', to: 'reply' },
    ],
  };
}

type Doc = ReturnType<typeof flow>;
const cfgOf = (d: Doc, id: string) => d.nodes.find((n) => n.id === id)!.config as Record<string, unknown>;

/** Someone else saves a change to the flow, through the API. */
async function saveElsewhere(api: APIRequestContext, name: string, change: (d: Doc) => void) {
  const cur = await (await api.get(`flows/${name}`)).json();
  change(cur.document);
  const r = await api.put(`flows/${name}`, { data: cur.document, headers: { 'If-Match': String(cur.revision) } });
  expect(r.status(), await r.text()).toBe(200);
}

async function open(page: Page, name: string) {
  await page.goto(`/#/flows/${name}`);
  await expect(nodeLocator(page, 'reply')).toBeVisible();
}

async function edit(page: Page, node: string, field: string, text: string) {
  await nodeLocator(page, node).click();
  await fillEditor(page, field, text);
  await expect(page.getByTestId('save-state')).toHaveText('Unsaved changes');
}

test('edits of different nodes merge by themselves when the page saves', async ({ page, api, guard }) => {
  guard.allow(/status of 409/);
  await createFlowViaAPI(api, flow('merge-auto'));
  await open(page, 'merge-auto');
  await edit(page, 'reply', 'body', '"page reply"');
  await saveElsewhere(api, 'merge-auto', (d) => (cfgOf(d, 'note').message = '"their note"'));

  await page.getByTestId('save').click();
  await expect(page.locator('.toast', { hasText: 'Merged with changes saved by someone else (revision 2)' })).toBeVisible();
  await expect(page.getByTestId('save-state')).toHaveText('Saved · rev 3');
  await expect(page.getByTestId('conflict-dialog')).toBeHidden();

  // The server has both changes.
  const saved = await (await api.get('flows/merge-auto')).json();
  expect(saved.revision).toBe(3);
  expect(cfgOf(saved.document, 'reply').body).toBe('"page reply"');
  expect(cfgOf(saved.document, 'note').message).toBe('"their note"');
  expect(saved.document.edges).toEqual(flow('merge-auto').edges);

  // The editor shows their change too, and the merge is one undo step.
  await nodeLocator(page, 'note').click();
  await expect(page.getByTestId('node-panel').locator('[data-field-path="message"] .cm-content')).toHaveText('"their note"');
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('save-state')).toHaveText('Unsaved changes');
  await expect(page.getByTestId('node-panel').locator('[data-field-path="message"] .cm-content')).toHaveText('"base note"');
  await page.getByRole('button', { name: 'Redo' }).click();
  await expect(page.getByTestId('save-state')).toHaveText('Saved · rev 3');
  await expect(page.getByTestId('node-panel').locator('[data-field-path="message"] .cm-content')).toHaveText('"their note"');
});

test('overlapping edits are chosen per node, with both versions shown', async ({ page, api, guard }) => {
  guard.allow(/status of 409/);
  await createFlowViaAPI(api, flow('merge-choose'));
  await open(page, 'merge-choose');
  await edit(page, 'note', 'message', '"page note"');
  await edit(page, 'reply', 'body', '"page reply"');
  await saveElsewhere(api, 'merge-choose', (d) => {
    cfgOf(d, 'note').message = '"their note"';
    cfgOf(d, 'reply').body = '"their reply"';
    cfgOf(d, 'reply').status = 201;
  });

  await page.getByTestId('save').click();
  const dialog = page.getByTestId('conflict-dialog');
  await expect(dialog).toBeVisible();
  const note = dialog.getByTestId('conflict-node:note');
  const reply = dialog.getByTestId('conflict-node:reply');
  await expect(note.locator('[data-side="theirs"]')).toContainText('their note');
  await expect(note.locator('[data-side="mine"]')).toContainText('page note');
  await expect(reply.locator('[data-side="theirs"]')).toContainText('their reply');
  await expect(reply.locator('[data-side="mine"]')).toContainText('page reply');
  // The field in question is marked on both sides; their status is kept either way.
  await expect(reply.locator('[data-side="mine"] .hl')).toContainText('"body"');
  await expect(reply.locator('[data-side="mine"]')).toContainText('"status": 201');
  await expect(reply.locator('[data-side="mine"] .hl', { hasText: 'status' })).toHaveCount(0);
  await page.screenshot({ path: `${shotsDir}/merge-per-node.png` });

  // Nothing is saved until every conflict has a choice.
  const apply = dialog.getByRole('button', { name: 'Apply and save' });
  await expect(apply).toBeDisabled();
  await note.getByRole('radio', { name: 'Take theirs' }).check();
  await expect(apply).toBeDisabled();
  await reply.getByRole('radio', { name: 'Keep mine' }).check();
  await apply.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('save-state')).toHaveText('Saved · rev 3');

  const saved = await (await api.get('flows/merge-choose')).json();
  expect(saved.revision).toBe(3);
  expect(cfgOf(saved.document, 'note').message).toBe('"their note"');
  expect(cfgOf(saved.document, 'reply')).toEqual({ body: '"page reply"', status: 201 });
  await nodeLocator(page, 'note').click();
  await expect(page.getByTestId('node-panel').locator('[data-field-path="message"] .cm-content')).toHaveText('"their note"');
});

test('overwriting their save takes a confirmation', async ({ page, api, guard }) => {
  guard.allow(/status of 409/);
  await createFlowViaAPI(api, flow('merge-overwrite'));
  await open(page, 'merge-overwrite');
  await edit(page, 'reply', 'body', '"page reply"');
  await saveElsewhere(api, 'merge-overwrite', (d) => {
    cfgOf(d, 'reply').body = '"their reply"';
    cfgOf(d, 'note').message = '"their note"';
  });

  await page.getByTestId('save').click();
  const dialog = page.getByTestId('conflict-dialog');
  await dialog.getByRole('button', { name: 'Overwrite theirs…' }).click();
  await expect(dialog.getByTestId('overwrite-confirm')).toContainText('replaced by your version');
  // Asking is all that happened so far.
  expect((await (await api.get('flows/merge-overwrite')).json()).revision).toBe(2);
  await dialog.getByRole('button', { name: 'Back' }).click();
  await expect(dialog.getByTestId('overwrite-confirm')).toBeHidden();
  expect((await (await api.get('flows/merge-overwrite')).json()).revision).toBe(2);

  await dialog.getByRole('button', { name: 'Overwrite theirs…' }).click();
  await dialog.getByTestId('confirm-overwrite').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('save-state')).toHaveText('Saved · rev 3');
  const saved = await (await api.get('flows/merge-overwrite')).json();
  expect(cfgOf(saved.document, 'reply').body).toBe('"page reply"');
  // Mine whole: their non-overlapping change is gone too.
  expect(cfgOf(saved.document, 'note').message).toBe('"base note"');
});
