// The config form is generated from the node types' field specs: every kind
// (int, enum, expr_list, schema, code, ...) edits the document as
// FLOW-FORMAT.md writes it.
import { test, expect, nodeLocator, fillEditor, createFlowViaAPI, shotsDir } from './fixtures';

const doc = {
  version: 1,
  name: 'kinds-demo',
  nodes: [{ id: 'start', type: 'trigger.http', config: { method: 'POST', path: '/kinds' }, position: { x: 40, y: 160 } }],
  edges: [],
};

async function add(page: import('@playwright/test').Page, type: string) {
  await page.locator(`.palette-item[data-type="${type}"]`).focus();
  await page.keyboard.press('Enter');
}

test('every field kind edits the document', async ({ page, api }) => {
  await createFlowViaAPI(api, doc);
  await page.goto('/#/flows/kinds-demo');
  await expect(nodeLocator(page, 'start')).toBeVisible();
  const panel = page.getByTestId('node-panel');

  // code: a JavaScript editor with highlighting.
  await add(page, 'code.js');
  await expect(panel).toHaveAttribute('data-node', 'code_js_1');
  await fillEditor(page, 'source', 'const items = request.body.items || [];\nlog.info("items", items.length);\nreturn { count: items.length };');
  await expect(panel.locator('[data-field-path="source"] .cm-lineNumbers')).toBeVisible();
  await expect(panel.locator('[data-field-path="source"] .cm-line span').first()).toBeVisible();
  // int: a whole number, refused otherwise.
  const timeout = panel.locator('[data-field-path="timeout_ms"] input');
  await timeout.fill('25x');
  await expect(panel.locator('[data-field-path="timeout_ms"]')).toHaveClass(/invalid/);
  await timeout.fill('250');
  await expect(panel.locator('[data-field-path="timeout_ms"]')).not.toHaveClass(/invalid/);
  await page.screenshot({ path: `${shotsDir}/code-node.png` });

  // schema: a JSON editor that reports parse errors and keeps the last good value.
  await add(page, 'validate');
  await expect(panel).toHaveAttribute('data-node', 'validate_1');
  await fillEditor(page, 'schema', '{"type": "object", "required": ["name"');
  await expect(panel.locator('[data-field-path="schema"] .field-error')).toContainText('does not parse');
  await fillEditor(page, 'schema', '{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}');
  await expect(panel.locator('[data-field-path="schema"] .field-error')).toHaveCount(0);

  // expr_list and enum and string: a database query.
  await add(page, 'db.query');
  await expect(panel).toHaveAttribute('data-node', 'db_query_1');
  await panel.locator('[data-field-path="datasource"] input').fill('main');
  await fillEditor(page, 'sql', 'select * from orders where shop = $1 and total > $2');
  await panel.getByRole('button', { name: '+ add parameter' }).click();
  await panel.getByRole('button', { name: '+ add parameter' }).click();
  await fillEditor(page, 'params[0]', 'request.body.shop');
  await fillEditor(page, 'params[1]', '100');
  await panel.getByRole('button', { name: 'Move parameter 2 up' }).click();

  await add(page, 'http.request');
  await expect(panel).toHaveAttribute('data-node', 'http_request_1');
  await panel.locator('[data-field-path="method"] select').selectOption('POST');
  await fillEditor(page, 'url', '"https://example.com/hook"');
  await panel.getByRole('button', { name: '+ add header' }).click();
  await panel.locator('[data-field-path="headers[0].name"] input').fill('X-Shop');
  await fillEditor(page, 'headers[0].value', 'request.body.shop');
  await panel.locator('[data-field-path="retries"] input').fill('2');

  await page.getByTestId('save').click();
  await expect(page.getByTestId('save-state')).toContainText('Saved');
  const saved = (await (await api.get('flows/kinds-demo')).json()).document;
  const byId = Object.fromEntries(saved.nodes.map((n: any) => [n.id, n.config]));
  expect(byId.code_js_1).toEqual({ source: 'const items = request.body.items || [];\nlog.info("items", items.length);\nreturn { count: items.length };', timeout_ms: 250 });
  expect(byId.validate_1.schema).toEqual({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } });
  expect(byId.db_query_1).toMatchObject({ datasource: 'main', sql: 'select * from orders where shop = $1 and total > $2', params: ['100', 'request.body.shop'] });
  expect(byId.http_request_1).toMatchObject({ method: 'POST', url: '"https://example.com/hook"', headers: [{ name: 'X-Shop', value: 'request.body.shop' }], retries: 2 });
});
