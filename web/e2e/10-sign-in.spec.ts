// Signing in and out: a browser without a session lands on the sign-in
// page, a wrong password says so, the right one opens the flows list (or
// the page the user was going to), and signing out ends the session.
import { test, expect, shotsDir, createFlowViaAPI, nodeLocator, fillEditor } from './fixtures';
import { ADMIN_PASSWORD, ADMIN_USER } from './credentials';

test('sign in, come back to the page asked for, sign out', async ({ newPage, guard }) => {
  // Without a session the designer's first call (GET /session) is a 401, and so is a wrong password.
  guard.allow(/status of 401/);
  const p = await newPage({ signedIn: false });
  await p.goto('/');
  await expect(p).toHaveURL(/#\/signin$/);
  await expect(p.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(p.getByLabel('Name', { exact: true })).toBeFocused();
  await p.screenshot({ path: `${shotsDir}/sign-in.png` });

  // A wrong password: the error says so; the name stays, the password is cleared.
  await p.getByLabel('Name', { exact: true }).fill(ADMIN_USER);
  await p.getByLabel('Password', { exact: true }).fill('not-the-password');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p.getByTestId('signin-error')).toHaveText('Wrong name or password.');
  await expect(p.getByLabel('Name', { exact: true })).toHaveValue(ADMIN_USER);
  await expect(p.getByLabel('Password', { exact: true })).toHaveValue('');
  await expect(p.getByLabel('Password', { exact: true })).toBeFocused();

  // Rate limited: the wait the server asks for is shown. (Answered here, so
  // that the suite does not spend the server's real sign-in budget.)
  guard.allow(/status of 429/);
  await p.route('**/api/v1/session', (route) =>
    route.request().method() === 'POST'
      ? route.fulfill({ status: 429, headers: { 'Retry-After': '6' }, json: { error: 'too many sign-in attempts; wait a little', details: [] } })
      : route.continue(),
  );
  await p.getByLabel('Password', { exact: true }).fill('anything-at-all');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p.getByTestId('signin-error')).toHaveText('Too many sign-in attempts from here. Wait 6 seconds, then try again.');
  await p.unroute('**/api/v1/session');

  // The right password: the flows list, with the user menu.
  await p.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await p.getByLabel('Password', { exact: true }).press('Enter');
  await expect(p).toHaveURL(/#\/$/);
  await expect(p.getByRole('heading', { name: 'Flows' })).toBeVisible();
  const menuButton = p.getByTestId('user-menu');
  await expect(menuButton).toContainText(ADMIN_USER);
  await expect(menuButton).toContainText('Admin');

  // Sign out from the user menu (keyboard: the menu takes focus, Escape closes it).
  await menuButton.click();
  const menu = p.getByRole('menu');
  await expect(menu.getByRole('menuitem').first()).toBeFocused();
  await p.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(menuButton).toBeFocused();
  await menuButton.click();
  await menu.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(p).toHaveURL(/#\/signin$/);
  await expect(p.getByTestId('signin-message')).toHaveText('You are signed out.');

  // The session is gone on the server too: a reload still asks to sign in,
  // and the page asked for is where signing in leads.
  await p.goto('/#/tokens');
  await p.reload();
  await expect(p).toHaveURL(/#\/signin\?next=%23%2Ftokens$/);
  await p.getByLabel('Name', { exact: true }).fill(ADMIN_USER);
  await p.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p).toHaveURL(/#\/tokens$/);
  await expect(p.getByRole('heading', { name: 'API tokens' })).toBeVisible();
});

test('a session that ends with unsaved changes: sign in again over the editor, nothing is lost', async ({ newPage, api, guard }) => {
  await createFlowViaAPI(api, {
    version: 1,
    name: 'reauth-demo',
    nodes: [
      { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/reauth-demo' }, position: { x: 40, y: 120 } },
      { id: 'reply', type: 'response', config: { body: '"before"' }, position: { x: 340, y: 120 } },
    ],
    edges: [{ from: 'start', to: 'reply' }],
  });
  // A session of its own (the shared one must live on for the other tests).
  guard.allow(/status of 401/);
  const p = await newPage({ signedIn: false });
  await p.goto('/#/flows/reauth-demo');
  await p.getByLabel('Name', { exact: true }).fill(ADMIN_USER);
  await p.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p).toHaveURL(/#\/flows\/reauth-demo$/);
  await nodeLocator(p, 'reply').click();
  await fillEditor(p, 'body', '"after"');
  await expect(p.getByTestId('save-state')).toHaveText('Unsaved changes');

  // The session ends behind the editor's back (signed out elsewhere with the same cookie).
  const me = await (await p.request.get('/api/v1/session')).json();
  expect((await p.request.delete('/api/v1/session', { headers: { 'X-CSRF-Token': me.csrf_token } })).status()).toBe(204);

  // Saving is refused: the sign-in form comes over the page, which stays.
  await p.getByTestId('save').click();
  const reauth = p.getByTestId('reauth');
  await expect(reauth).toBeVisible();
  await expect(reauth.getByLabel('Name', { exact: true })).toHaveValue(ADMIN_USER);
  await expect(p).toHaveURL(/#\/flows\/reauth-demo$/);
  await reauth.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
  await reauth.getByRole('button', { name: 'Sign in and continue' }).click();
  await expect(reauth).toBeHidden();
  await expect(p.getByTestId('save-state')).toHaveText('Unsaved changes');
  await p.getByTestId('save').click();
  await expect(p.getByTestId('save-state')).toContainText('Saved · rev 2');
  expect((await (await api.get('flows/reauth-demo')).json()).document.nodes[1].config.body).toBe('"after"');
});
