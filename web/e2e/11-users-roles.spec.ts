// An admin adds a viewer in the Users page; the viewer signs in with the
// one-time password, has to choose their own, and then sees flows
// read-only: the buttons that would change something are disabled and say
// why. The admin's audit log lists the new user.
import { test, expect, createFlowViaAPI, nodeLocator, shotsDir } from './fixtures';

const doc = {
  version: 1,
  name: 'viewer-demo',
  nodes: [
    { id: 'start', type: 'trigger.http', config: { method: 'GET', path: '/viewer-demo' }, position: { x: 40, y: 120 } },
    { id: 'reply', type: 'response', config: { body: '"hello"' }, position: { x: 340, y: 120 } },
  ],
  edges: [{ from: 'start', to: 'reply' }],
};

const ONE_TIME = 'vera-first-7Qx2m9';
const CHOSEN = 'vera-own-password-5Lk8';
const REASON = 'Viewers can read flows; ask an admin for the editor role.';

test('an admin adds a viewer, who changes the one-time password and sees flows read-only', async ({ page, newPage, api, guard }) => {
  await createFlowViaAPI(api, doc);
  // Another user, so that the list has more than the admin.
  const eddie = await api.post('users', { data: { name: 'eddie', role: 'editor', password: 'eddie-initial-pw-1' } });
  expect(eddie.status(), await eddie.text()).toBe(201);

  // The admin adds the viewer.
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/#\/users$/);
  await expect(page.locator('tr[data-user="admin"]')).toContainText('(you)');
  await expect(page.getByLabel('Role of admin')).toBeDisabled();
  await page.getByRole('button', { name: 'Add user' }).click();
  const add = page.getByTestId('add-user');
  await expect(add.getByLabel('User name')).toBeFocused();
  await add.getByLabel('User name').fill('admin');
  await expect(add).toContainText('There is a user named “admin” already.');
  await expect(add.getByRole('button', { name: 'Add user' })).toBeDisabled();
  await add.getByLabel('User name').fill('vera');
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByLabel('Initial password').fill('short');
  await expect(add).toContainText('Use at least 10 characters.');
  await add.getByLabel('Initial password').fill(ONE_TIME);
  await add.getByRole('button', { name: 'Add user' }).click();
  await expect(add).toBeHidden();
  const row = page.locator('tr[data-user="vera"]');
  await expect(row.getByLabel('Role of vera')).toHaveValue('viewer');
  await expect(row).toContainText('one-time password');
  await page.screenshot({ path: `${shotsDir}/users.png` });

  // A change the server refuses is shown: eddie was deleted meanwhile.
  expect((await api.delete('users/eddie')).status()).toBe(204);
  guard.allow(/status of 404/);
  await page.locator('tr[data-user="eddie"]').getByLabel('Role of eddie').selectOption('admin');
  await expect(page.getByTestId('users-error')).toContainText('eddie no longer exists');
  await expect(page.locator('tr[data-user="eddie"]')).toHaveCount(0);

  // The viewer signs in elsewhere, going to the flow, and must first choose a password.
  guard.allow(/status of 401/); // the fresh browser's GET /session
  const v = await newPage({ signedIn: false });
  await v.goto('/#/flows/viewer-demo');
  await expect(v).toHaveURL(/#\/signin\?next=%23%2Fflows%2Fviewer-demo$/);
  await v.getByLabel('Name', { exact: true }).fill('vera');
  await v.getByLabel('Password', { exact: true }).fill(ONE_TIME);
  await v.getByRole('button', { name: 'Sign in' }).click();
  await expect(v).toHaveURL(/#\/password\?next=%23%2Fflows%2Fviewer-demo$/);
  await expect(v.getByTestId('password-forced')).toContainText('one-time password');
  await v.getByLabel('New password', { exact: true }).fill(CHOSEN);
  await v.getByLabel('New password again').fill(CHOSEN + 'x');
  await expect(v.getByText('The two new passwords differ.')).toBeVisible();
  await expect(v.getByRole('button', { name: 'Save and continue' })).toBeDisabled();
  await v.getByLabel('New password again').fill(CHOSEN);
  await v.getByRole('button', { name: 'Save and continue' }).click();

  // Then the flow, read-only.
  await expect(v).toHaveURL(/#\/flows\/viewer-demo$/);
  await expect(nodeLocator(v, 'reply')).toBeVisible();
  await expect(v.getByTestId('user-menu')).toContainText('vera');
  await expect(v.getByTestId('user-menu')).toContainText('Viewer');
  await expect(v.getByTestId('editor-read-only')).toContainText(REASON);
  await expect(v.getByTestId('save')).toBeDisabled();
  await expect(v.getByTestId('save')).toHaveAttribute('title', REASON);
  await expect(v.locator('.palette')).toHaveCount(0);
  await nodeLocator(v, 'reply').click();
  await expect(v.getByTestId('node-panel').getByLabel('Node id')).toBeDisabled();
  await expect(v.getByTestId('node-panel').locator('[data-field-path="body"] .cm-content')).toHaveAttribute('contenteditable', 'false');
  await v.getByRole('tab', { name: 'Publish' }).click();
  await expect(v.getByTestId('publish')).toBeDisabled();
  await expect(v.getByTestId('publish-blocked')).toBeVisible();
  await expect(v.getByTestId('publish-blocked')).toContainText(REASON);
  await v.getByRole('tab', { name: 'Test' }).click();
  await expect(v.getByTestId('run-test')).toBeDisabled();
  await expect(v.getByTestId('test-blocked')).toContainText(REASON);

  // The list: reading and exporting yes, creating and deleting no.
  await v.getByRole('link', { name: '← Flows' }).click();
  await expect(v.getByTestId('role-note')).toHaveText(REASON);
  await expect(v.getByRole('button', { name: 'New flow' })).toBeDisabled();
  const flowRow = v.locator('tr[data-flow="viewer-demo"]');
  await expect(flowRow.getByRole('button', { name: 'Delete' })).toBeDisabled();
  await expect(flowRow.getByRole('button', { name: 'Export' })).toBeEnabled();
  // No admin pages for a viewer.
  await expect(v.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' })).toHaveCount(0);

  // The admin's audit log lists the new user, newest first.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  const created = page.locator('tr[data-action="user.create"]').filter({ hasText: 'vera' });
  await expect(created).toContainText('admin');
  await expect(created).toContainText('role viewer');
  await expect(page.locator('tr[data-action]').first()).toHaveAttribute('data-action', 'user.password'); // vera's change, the latest


  // Roles take effect at once: vera, made an editor, may save.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Role of vera').selectOption('editor');
  await expect(page.getByText('vera is now editor')).toBeVisible();
  await v.getByRole('link', { name: 'viewer-demo' }).click();
  await expect(v.getByTestId('editor-read-only')).toHaveCount(0);
  await expect(v.locator('.palette')).toBeVisible();
  await v.reload();
  await expect(v.getByTestId('user-menu')).toContainText('Editor');

  // Disabled: vera's next call is refused and her browser asks to sign in, coming back to the flow.
  await page.locator('tr[data-user="vera"]').getByRole('button', { name: 'Disable' }).click();
  await expect(page.locator('tr[data-user="vera"]')).toContainText('disabled');
  await v.getByRole('tab', { name: 'Publish' }).click();
  await expect(v).toHaveURL(/#\/signin\?next=%23%2Fflows%2Fviewer-demo$/);
  await expect(v.getByTestId('signin-message')).toHaveText('Your session has ended; sign in again.');
  await page.locator('tr[data-user="vera"]').getByRole('button', { name: 'Enable' }).click();
  await expect(page.locator('tr[data-user="vera"]')).toContainText('active');

  // A password reset makes it one-time again.
  await page.locator('tr[data-user="vera"]').getByRole('button', { name: 'Reset password…' }).click();
  const reset = page.getByRole('dialog');
  await expect(reset.getByLabel('One-time password')).not.toHaveValue('');
  await reset.getByRole('button', { name: 'Reset password' }).click();
  await expect(reset).toBeHidden();
  await expect(page.locator('tr[data-user="vera"]')).toContainText('one-time password');

  // Deleting asks first.
  await page.locator('tr[data-user="vera"]').getByRole('button', { name: 'Delete…' }).click();
  const del = page.getByRole('dialog');
  await expect(del).toContainText('This cannot be undone');
  await del.getByRole('button', { name: 'Delete user' }).click();
  await expect(page.locator('tr[data-user="vera"]')).toHaveCount(0);
  expect((await api.get('users/vera')).status()).toBe(404);
});
