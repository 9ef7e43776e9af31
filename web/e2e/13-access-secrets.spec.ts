// Secrets, endpoint access and the egress allow-list in the designer: a
// secret entered in the deploy dialog reaches the flow and is never shown
// back (only its name, "set"); the Access tab makes the endpoint require an
// API key, creates one (shown once) and revokes it, as the gateway sees; a
// test run's call refused by the egress policy offers to allow the address
// for test runs.
import { test, expect, createFlowViaAPI, nodeLocator, shotsDir, replyFlow } from './fixtures';
import type { APIRequestContext, Page } from '@playwright/test';

const REASON = 'Viewers can read flows; ask an admin for the editor role.';

/** Publishes a JS version and deploys it through the API; waits until it runs. */
async function deployViaAPI(api: APIRequestContext, name: string, revision: number) {
  const v = await api.post(`flows/${name}/versions`, { data: { target: 'js', revision } });
  expect(v.status(), await v.text()).toBe(201);
  const d = await api.post(`flows/${name}/deployments`, { data: { version: (await v.json()).version, target: 'local' } });
  expect(d.status(), await d.text()).toBe(201);
  const id = (await d.json()).id as string;
  await expect.poll(async () => (await (await api.get(`deployments/${id}`)).json()).status, { timeout: 90_000 }).toBe('running');
  return id;
}

async function stopAll(api: APIRequestContext, flow: string) {
  const deps = await (await api.get(`deployments?flow=${flow}`)).json();
  for (const d of deps ?? []) expect((await api.delete(`deployments/${d.id}`)).status()).toBe(204);
}

/** Answers GET /session as if the signed-in user were a viewer: the designer then shows what a viewer sees. */
async function actAsViewer(p: Page) {
  await p.route('**/api/v1/session', async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const res = await route.fetch();
    const s = await res.json();
    await route.fulfill({ response: res, json: { ...s, user: { ...s.user, role: 'viewer' } } });
  });
}

test('a secret entered in the deploy dialog reaches the flow and is never shown back', async ({ page, api, gatewayURL }) => {
  const SECRET = 'sk-live-4f1a9c2e7b';
  await createFlowViaAPI(api, replyFlow('secret-len', '{"len": len(env.API_KEY), "mode": env.MODE}'));
  await page.goto('/#/flows/secret-len');
  await expect(nodeLocator(page, 'reply')).toBeVisible();
  await page.getByRole('tab', { name: 'Publish' }).click();
  await page.getByRole('radio', { name: 'JavaScript' }).check();
  await page.getByTestId('publish').click();
  await expect(page.getByTestId('published')).toContainText('Published version 1 (js)', { timeout: 60_000 });

  await page.getByTestId('published').getByRole('button', { name: 'Deploy it…' }).click();
  const dialog = page.getByTestId('deploy-dialog');
  await expect(dialog).toContainText('Secrets and datasource URLs are entered on each deploy');
  await dialog.getByRole('button', { name: '+ add variable' }).click();
  await dialog.getByLabel('Variable name 1').fill('MODE');
  await dialog.getByLabel('Variable value 1').fill('live');
  await dialog.getByRole('button', { name: '+ add secret' }).click();
  await dialog.getByLabel('Secret name 1').fill('MODE');
  await dialog.getByLabel('Secret value 1').fill(SECRET);
  // A name given both ways is refused before anything is sent.
  await expect(dialog).toContainText('MODE is both a plain and a secret variable');
  await expect(dialog.getByTestId('deploy-submit')).toBeDisabled();
  await dialog.getByLabel('Secret name 1').fill('API_KEY');
  await expect(dialog.getByLabel('Secret value 1')).toHaveAttribute('type', 'password');
  await expect(dialog.getByLabel('Datasource value 1')).toHaveCount(0);
  // The egress allow-list is checked as it is typed.
  await dialog.getByRole('button', { name: '+ add address' }).click();
  await dialog.getByLabel('Allowed address 1', { exact: true }).fill('http://10.1.2.0');
  await expect(dialog.getByTestId('deploy-egress')).toContainText('a URL; write only its host');
  await expect(dialog.getByTestId('deploy-submit')).toBeDisabled();
  await dialog.getByLabel('Allowed address 1', { exact: true }).fill('10.1.2.0/24');
  await expect(dialog.getByTestId('deploy-submit')).toBeEnabled();

  // From here on, nothing the server answers may carry the secret.
  const answers: Promise<string>[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/')) answers.push(r.text().catch(() => ''));
  });
  const created = page.waitForResponse((r) => r.url().endsWith('/flows/secret-len/deployments') && r.request().method() === 'POST');
  await dialog.getByTestId('deploy-submit').click();
  const view = await (await created).json();
  expect(view.secrets).toEqual({ API_KEY: 'set' });
  expect(view.env).toEqual({ MODE: 'live' });
  expect(view.egress).toEqual({ allow: ['10.1.2.0/24'] });
  await expect(dialog).toBeHidden({ timeout: 60_000 });
  const dep = page.getByTestId('deployment').first();
  await expect(dep).toHaveAttribute('data-status', 'running', { timeout: 90_000 });
  await expect(dep.getByTestId('dep-secrets')).toHaveText('API_KEY: set');
  await expect(dep.getByTestId('dep-env')).toHaveText('MODE=live');
  await expect(dep.getByTestId('dep-egress')).toHaveText('10.1.2.0/24');

  // The flow sees the secret.
  const res = await page.request.get(`${gatewayURL}/secret-len`);
  expect(res.status(), await res.text()).toBe(200);
  expect(await res.json()).toEqual({ len: SECRET.length, mode: 'live' });

  // Neither the page nor the API shows it.
  expect(await page.content()).not.toContain(SECRET);
  const listed = await (await api.get('deployments?flow=secret-len')).text();
  expect(listed).toContain('"API_KEY":"set"');
  expect(listed).not.toContain(SECRET);
  const one = await (await api.get(`deployments/${view.id}`)).text();
  expect(JSON.parse(one).secrets).toEqual({ API_KEY: 'set' });
  expect(one).not.toContain(SECRET);

  // Redeploying offers the names, never the values, and says they must be entered again.
  await page.locator('tr[data-version="1"]').getByRole('button', { name: 'Deploy…' }).click();
  await expect(dialog.getByTestId('secrets-set')).toContainText('API_KEY: set (enter a value to replace it)');
  await expect(dialog.getByTestId('secrets-set')).toContainText('enter each of them again');
  await expect(dialog.getByLabel('Secret name 1')).toHaveValue('API_KEY');
  await expect(dialog.getByLabel('Secret value 1')).toHaveValue('');
  await expect(dialog.getByLabel('Secret value 1')).toHaveAttribute('placeholder', 'set; enter the value again');
  await expect(dialog.getByLabel('Variable value 1')).toHaveValue('live');
  await expect(dialog.getByLabel('Allowed address 1', { exact: true })).toHaveValue('10.1.2.0/24');
  await expect(dialog.getByTestId('unfilled-secrets')).toContainText('No value entered for API_KEY (secret)');
  expect(await page.content()).not.toContain(SECRET);
  // Left empty, the secret is not sent: the server keeps nothing of the old deployment's.
  const again = page.waitForResponse((r) => r.url().endsWith('/flows/secret-len/deployments') && r.request().method() === 'POST');
  await dialog.getByTestId('deploy-submit').click();
  expect((await (await again).json()).secrets).toEqual({});
  await expect(dialog).toBeHidden({ timeout: 60_000 });

  for (const text of await Promise.all(answers)) expect(text).not.toContain(SECRET);
  await stopAll(api, 'secret-len');
});

test('the Access tab requires a key, makes one (shown once) and revokes it, as the gateway sees', async ({ page, api, newPage, gatewayURL, baseURL, playwright }) => {
  const flow = await createFlowViaAPI(api, replyFlow('access-demo', '{"ok": true}'));
  await deployViaAPI(api, 'access-demo', flow.revision);
  const gw = await playwright.request.newContext();
  const call = async (key?: string) => (await gw.get(`${gatewayURL}/access-demo`, { headers: key ? { 'X-API-Key': key } : {} })).status();
  expect(await call()).toBe(200);

  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await page.goto('/#/flows/access-demo');
  await page.getByRole('tab', { name: 'Access' }).click();
  const panel = page.getByTestId('access-panel');
  const sw = panel.getByRole('switch', { name: 'Require an API key' });
  await expect(sw).not.toBeChecked();
  await expect(panel).toContainText(`${gatewayURL}/access-demo`);

  // Require a key: with none yet, every call is refused.
  await sw.click();
  await expect(sw).toBeChecked();
  await expect(panel.getByTestId('no-keys')).toBeVisible();
  await expect.poll(() => call()).toBe(401);

  // Make a key; its secret is shown once, with a curl example that sends it.
  await panel.getByLabel("New key's name").fill('shop');
  await panel.getByLabel('Calls per minute').fill('6x');
  await expect(panel.getByRole('button', { name: 'Create key' })).toBeDisabled();
  await panel.getByLabel('Calls per minute').fill('600');
  await panel.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByTestId('key-created');
  await expect(shown).toContainText("won't show it again");
  const key = await shown.getByTestId('key-secret').inputValue();
  expect(key).toMatch(/^flk_[A-Za-z0-9_-]{20,}$/);
  await expect(shown.getByTestId('key-curl')).toHaveText(`curl -i -X GET '${gatewayURL}/access-demo' -H 'X-API-Key: ${key}'`);
  await shown.getByRole('button', { name: 'Copy key' }).click();
  await expect(shown.getByRole('button', { name: 'Copied', exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
  await shown.getByRole('button', { name: 'I have copied it' }).click();
  await expect(shown).toBeHidden();
  const row = panel.locator('tr[data-key="shop"]');
  await expect(row).toContainText(`${key.slice(0, 10)}…`);
  await expect(row).toContainText('600 / min');
  await expect(panel.getByTestId('no-keys')).toHaveCount(0);
  await expect(page.getByText(key)).toHaveCount(0);

  // The gateway: 401 without the key, 200 with it.
  expect(await call()).toBe(401);
  expect(await call('flk_wrong')).toBe(401);
  expect(await call(key)).toBe(200);

  // A browser origin: checked before it is sent.
  await panel.getByRole('button', { name: '+ add origin' }).click();
  await panel.getByLabel('Origin 1', { exact: true }).fill('shop.example');
  await expect(panel.getByTestId('cors-origins')).toContainText('must be * or scheme://host[:port]');
  await expect(panel.getByTestId('save-origins')).toBeDisabled();
  await panel.getByLabel('Origin 1', { exact: true }).fill('https://Shop.Example/');
  await panel.getByTestId('save-origins').click();
  await expect(panel.getByLabel('Origin 1', { exact: true })).toHaveValue('https://shop.example');
  await expect(panel.getByTestId('save-origins')).toBeDisabled();
  const access = await (await api.get('flows/access-demo/access')).json();
  expect(access).toMatchObject({ require_key: true, cors_origins: ['https://shop.example'] });
  expect(access.keys).toHaveLength(1);
  await expect(page.locator('.toast')).toHaveCount(0, { timeout: 10_000 });
  await page.screenshot({ path: `${shotsDir}/endpoint-access.png` });

  // The Publish tab's example sends the header, with a placeholder.
  await page.getByRole('tab', { name: 'Publish' }).click();
  const dep = page.getByTestId('deployment').first();
  await expect(dep.getByTestId('curl')).toHaveText(`curl -i -X GET '${gatewayURL}/access-demo' -H 'X-API-Key: <your-api-key>'`);
  await expect(dep.getByTestId('key-required')).toBeVisible();

  // A viewer sees it all, read-only, with the reason.
  const v = await newPage();
  await actAsViewer(v);
  await v.goto('/#/flows/access-demo');
  await expect(v.getByTestId('editor-read-only')).toContainText(REASON);
  await v.getByRole('tab', { name: 'Access' }).click();
  const vp = v.getByTestId('access-panel');
  await expect(vp.getByRole('switch', { name: 'Require an API key' })).toBeChecked();
  await expect(vp.getByRole('switch', { name: 'Require an API key' })).toBeDisabled();
  await expect(vp.getByTestId('access-blocked')).toContainText(REASON);
  await expect(vp.getByRole('button', { name: 'Create key' })).toBeDisabled();
  await expect(vp.getByRole('button', { name: 'Revoke shop' })).toBeDisabled();
  await expect(vp.getByRole('button', { name: 'Revoke shop' })).toHaveAttribute('title', REASON);
  await expect(vp.getByLabel('Origin 1', { exact: true })).toBeDisabled();
  await expect(vp.getByTestId('save-origins')).toHaveCount(0);
  await v.close();

  // Revoke, with confirmation; then the key is refused.
  await page.getByRole('tab', { name: 'Access' }).click();
  await row.getByRole('button', { name: 'Revoke shop' }).click();
  const confirm = page.getByTestId('revoke-key');
  await expect(confirm).toContainText('refused from now on (401)');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Revoke shop' }).click();
  await confirm.getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toHaveCount(0);
  await expect(panel.getByTestId('no-keys')).toBeVisible();
  expect(await call(key)).toBe(401);

  // Open again, for the other tests' sake.
  await panel.getByRole('switch', { name: 'Require an API key' }).click();
  await expect(panel.getByRole('switch', { name: 'Require an API key' })).not.toBeChecked();
  await expect.poll(() => call()).toBe(200);
  await gw.dispose();
  await stopAll(api, 'access-demo');
});

test('a call the egress policy refuses in a test run can be allowed for test runs from the node', async ({ page, api }) => {
  await createFlowViaAPI(api, {
    version: 1,
    name: 'egress-demo',
    nodes: [
      { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/egress-demo' }, position: { x: 40, y: 140 } },
      { id: 'call', type: 'http.request', config: { method: 'GET', url: '"http://127.0.0.1:9/x"' }, position: { x: 320, y: 140 } },
      { id: 'reply', type: 'response', config: { body: 'nodes.call.status' }, position: { x: 620, y: 140 } },
    ],
    edges: [
      { from: 'start', to: 'call' },
      { from: 'call', to: 'reply' },
    ],
  });
  await page.goto('/#/flows/egress-demo');
  await expect(nodeLocator(page, 'call')).toBeVisible();
  await page.getByRole('tab', { name: 'Test' }).click();
  const tp = page.getByTestId('test-panel');
  // A secret for test runs stays in this tab (sessionStorage), never in localStorage.
  await tp.getByTestId('test-env').locator('summary').click();
  await tp.getByRole('button', { name: '+ add secret' }).click();
  await tp.getByLabel('Secret name 1').fill('TOKEN');
  await tp.getByLabel('Secret value 1').fill('test-run-secret-91c3');
  await expect(tp.getByLabel('Secret value 1')).toHaveAttribute('type', 'password');
  await expect.poll(() => page.evaluate(() => sessionStorage.getItem('flowline.testsecrets.egress-demo') ?? '')).toContain('test-run-secret-91c3');
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain('test-run-secret-91c3');

  await page.getByTestId('run-test').click();
  await expect(page.getByTestId('response-status')).toHaveText('502');
  const spanError = tp.locator('.span-error');
  await expect(spanError).toContainText('the egress policy refuses 127.0.0.1:9 (a loopback address)');
  await expect(tp.getByTestId('egress-allow')).toHaveText('Allow 127.0.0.1:9 for test runs');

  // On the node's own result too; allowing it there adds it to the test runs' list.
  await nodeLocator(page, 'call').click();
  const details = page.getByTestId('run-details');
  await expect(details.getByTestId('span-error')).toContainText('egress policy refuses 127.0.0.1:9');
  await details.getByRole('button', { name: 'Allow 127.0.0.1:9 for test runs' }).click();
  await expect(details.getByTestId('egress-allowed')).toContainText('127.0.0.1:9 is allowed for test runs now');
  await page.getByRole('tab', { name: 'Test' }).click();
  await expect(tp.getByLabel('Allowed address 1', { exact: true })).toHaveValue('127.0.0.1:9');
  await expect(tp.getByTestId('egress-allowed')).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem('flowline.testenv.egress-demo'))).toContain('127.0.0.1:9');

  // The next run gets past the policy and fails on the closed port instead.
  await page.getByTestId('run-test').click();
  await expect(spanError).not.toContainText('egress policy');
  await expect(spanError).toContainText(/refused|connect/);
  await expect(tp.getByTestId('egress-allow')).toHaveCount(0);

  // The list survives a reload; a bad entry is caught before a run.
  await page.reload();
  await page.getByRole('tab', { name: 'Test' }).click();
  await tp.getByTestId('test-env').locator('summary').click();
  await expect(tp.getByLabel('Allowed address 1', { exact: true })).toHaveValue('127.0.0.1:9');
  await expect(tp.getByLabel('Secret value 1')).toHaveValue('test-run-secret-91c3');
  await tp.getByRole('button', { name: '+ add address' }).click();
  await tp.getByLabel('Allowed address 2', { exact: true }).fill('127.1');
  await expect(tp.getByTestId('test-egress')).toContainText('looks like an IPv4 address');
  await page.getByTestId('run-test').click();
  await expect(tp.getByRole('alert')).toContainText('Fix the environment for test runs first');
});
