// Export downloads the flow document; importing that file creates an equal flow.
import { readFileSync } from 'node:fs';
import { test, expect, createFlowViaAPI } from './fixtures';

const doc = {
  version: 1,
  name: 'roundtrip',
  description: 'routes by tier',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/tiers/:id' }, position: { x: 40, y: 160 } },
    {
      id: 'route',
      type: 'switch',
      config: {
        cases: [
          { port: 'gold', condition: 'request.query.tier == "gold"' },
          { port: 'silver', condition: 'request.query.tier == "silver"' },
        ],
      },
      position: { x: 300, y: 160 },
    },
    { id: 'gold', type: 'response', config: { status: 200, headers: [{ name: 'X-Tier', value: '"gold"' }], body: '{"id": request.params.id, "tier": "gold"}' }, position: { x: 600, y: 40 } },
    { id: 'other', type: 'response', config: { status: 404, body: '{"error": "no tier"}' }, position: { x: 600, y: 260 } },
  ],
  edges: [
    { from: 'start', to: 'route' },
    { from: 'route', to: 'gold', port: 'gold' },
    { from: 'route', to: 'other', port: 'silver' },
    { from: 'route', to: 'other', port: 'default' },
  ],
};

test('export then import gives an equal flow', async ({ page, api, guard }, testInfo) => {
  await createFlowViaAPI(api, doc);
  await page.goto('/');
  const row = page.locator('tr[data-flow="roundtrip"]');
  await expect(row).toBeVisible();

  // Export: the download is the document exactly as stored.
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Export' }).click()]);
  expect(download.suggestedFilename()).toBe('roundtrip.flow.json');
  const file = testInfo.outputPath('roundtrip.flow.json');
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  const stored = await (await api.get('flows/roundtrip')).json();
  expect(exported).toEqual(stored.document);
  expect(exported).toEqual(doc);

  // Delete it, then import the file.
  await row.getByRole('button', { name: 'Delete' }).click();
  // Behind a dialog the page is inert (out of the accessibility tree, no
  // click reaches it), and Tab cycles inside the dialog.
  await expect(page.locator('#root')).toHaveJSProperty('inert', true);
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('[role=dialog]'))).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.locator('#root')).toHaveJSProperty('inert', false);
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(row).toHaveCount(0);
  await page.getByTestId('import-file').setInputFiles(file);
  await expect(row).toBeVisible();
  const imported = await (await api.get('flows/roundtrip')).json();
  expect(imported.document).toEqual(exported);

  // Importing it again: the name is taken, so the designer asks for another.
  guard.allow(/status of 409/);
  await page.getByTestId('import-file').setInputFiles(file);
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('already exists');
  await expect(dialog.getByLabel('New name')).toHaveValue('roundtrip-2');
  await dialog.getByRole('button', { name: 'Import' }).click();
  await expect(page.locator('tr[data-flow="roundtrip-2"]')).toBeVisible();
  const second = await (await api.get('flows/roundtrip-2')).json();
  expect(second.document).toEqual({ ...exported, name: 'roundtrip-2' });

  // The switch's ports come from its cases, plus default and error.
  await page.locator('tr[data-flow="roundtrip-2"]').getByRole('link').click();
  const ports = page.locator('.react-flow__node[data-id="route"] .react-flow__handle.source');
  await expect(ports).toHaveCount(4);
  expect(await ports.evaluateAll((hs) => hs.map((h) => h.getAttribute('data-handleid')))).toEqual(['gold', 'silver', 'default', 'error']);
  await expect(page.locator('.react-flow__node[data-id="gold"] .react-flow__handle.source')).toHaveCount(0);
});

test('rename in the editor, then rename and duplicate from the list', async ({ page, api }) => {
  await createFlowViaAPI(api, { ...doc, name: 'names-demo', nodes: doc.nodes.map((n) => (n.type === 'trigger.http' ? { ...n, config: { method: 'GET', path: '/names/:id' } } : n)) });
  await page.goto('/#/flows/names-demo');
  const name = page.getByLabel('Flow name');
  await name.fill('names-demo-2');
  await expect(page.getByTestId('save-state')).toHaveText('Unsaved changes');
  await page.keyboard.press('ControlOrMeta+s');
  await expect(page).toHaveURL(/#\/flows\/names-demo-2$/);
  await expect(page.getByTestId('save-state')).toContainText('Saved');
  expect((await api.get('flows/names-demo')).status()).toBe(404);
  expect((await (await api.get('flows/names-demo-2')).json()).document.name).toBe('names-demo-2');

  await page.getByRole('link', { name: '← Flows' }).click();
  const row = page.locator('tr[data-flow="names-demo-2"]');
  await row.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('dialog').getByLabel('New name').fill('names-demo-3');
  await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
  const renamed = page.locator('tr[data-flow="names-demo-3"]');
  await expect(renamed).toBeVisible();
  await renamed.getByRole('button', { name: 'Duplicate' }).click();
  await expect(page.getByRole('dialog').getByLabel('New name')).toHaveValue('names-demo-3-copy');
  await page.getByRole('dialog').getByRole('button', { name: 'Duplicate' }).click();
  await expect(page.locator('tr[data-flow="names-demo-3-copy"]')).toBeVisible();
  const a = (await (await api.get('flows/names-demo-3')).json()).document;
  const b = (await (await api.get('flows/names-demo-3-copy')).json()).document;
  expect(b).toEqual({ ...a, name: 'names-demo-3-copy' });
});
