// API tokens: made in the Tokens page (the secret shown once), accepted by
// the API as a bearer token, refused once revoked.
import { test, expect } from './fixtures';

test('a token from the Tokens page works until it is revoked', async ({ page, apiWith, baseURL }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API tokens' }).click();
  await expect(page).toHaveURL(/#\/tokens$/);
  await expect(page.getByText('You have no API tokens.')).toBeVisible();

  await page.getByLabel("New token's name").fill('e2e-ci');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByTestId('token-created');
  await expect(shown).toContainText('will not show it again');
  const secret = await shown.getByTestId('token-secret').inputValue();
  expect(secret).toMatch(/^flt_[A-Za-z0-9_-]{40,}$/);
  await shown.getByRole('button', { name: 'Copy token' }).click();
  await expect(shown.getByRole('button', { name: 'Copied', exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await shown.getByRole('button', { name: 'I have copied it' }).click();
  await expect(shown).toBeHidden();
  const row = page.locator('tr[data-token="e2e-ci"]');
  await expect(row).toContainText(`${secret.slice(0, 10)}…`);
  await expect(row).toContainText('never');
  // The secret is not on the page any more.
  await expect(page.getByText(secret)).toHaveCount(0);

  // The API takes it.
  const byToken = await apiWith(secret);
  const ok = await byToken.get('flows');
  expect(ok.status(), await ok.text()).toBe(200);
  await page.reload();
  await expect(row).not.toContainText('never');

  // Revoke, with confirmation; then the same call is refused.
  await row.getByRole('button', { name: 'Revoke e2e-ci' }).click();
  const confirm = page.getByRole('dialog');
  await expect(confirm).toContainText('refused from now on');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Revoke e2e-ci' }).click();
  await confirm.getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toHaveCount(0);
  const refused = await byToken.get('flows');
  expect(refused.status()).toBe(401);
});

test('the audit log shows 100 entries, then the older ones on request', async ({ page }) => {
  // 120 entries more: tokens made and revoked with the admin's session (the
  // configured API token cannot make tokens), through the page's own cookie.
  await page.goto('/');
  const me = await (await page.request.get('/api/v1/session')).json();
  const headers = { 'X-CSRF-Token': me.csrf_token };
  for (let i = 0; i < 60; i++) {
    const made = await page.request.post('/api/v1/tokens', { data: { name: `audit-${i}` }, headers });
    expect(made.status(), await made.text()).toBe(201);
    expect((await page.request.delete(`/api/v1/tokens/${(await made.json()).id}`, { headers })).status()).toBe(204);
  }
  const all = await (await page.request.get('/api/v1/audit')).json();
  expect(all).toHaveLength(100);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  const rows = page.locator('tr[data-action]');
  await expect(rows).toHaveCount(100);
  await expect(rows.first()).toHaveAttribute('data-action', 'token.delete');
  await expect(rows.first()).toContainText(me.user.name);
  await page.getByRole('button', { name: 'Load older' }).click();
  await expect(page.getByText(/That is everything: \d+ entries\./)).toBeVisible();
  const total = await rows.count();
  expect(total).toBeGreaterThanOrEqual(120);
  // Newest first throughout, and no entry twice.
  const times = await rows.locator('td:first-child').evaluateAll((tds) => tds.map((td) => Date.parse(td.getAttribute('title') ?? '')));
  expect(times.every((t, i) => i === 0 || t <= times[i - 1])).toBe(true);
  const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  expect(new Set(ids).size).toBe(ids.length);
  const made = await rows.filter({ hasText: 'token.create' }).count();
  expect(made).toBeGreaterThanOrEqual(60);
});
