// The development sign-in (no identity provider, loopback): sign in, see who you are, sign out.
import { expect, test } from '@playwright/test';
import { Shell } from '../pages/shell';

test('the development sign-in signs a seeded identity in and out', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/');
  await expect(shell.userArea).toContainText('Not signed in');

  await shell.userArea.getByRole('link', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText('Development sign-in.')).toBeVisible();
  await page.getByRole('button', { name: /Otto Operator/ }).click();

  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Otto Operator');
  await expect(shell.userArea.getByText('OO')).toBeVisible();

  // The Access page shows their groups, the binding that applies and what they may do.
  await shell.goto('/access');
  await expect(shell.main.getByText('platform-operators').first()).toBeVisible();
  const bindings = shell.main.getByRole('table', { name: 'Role bindings that apply to you' });
  await expect(bindings).toContainText('group platform-operators');
  await expect(bindings).toContainText('operator');
  const may = shell.main.getByRole('table', { name: 'What you may do everywhere' });
  await expect(may.getByRole('row').filter({ hasText: 'scale-pool' })).toContainText('allowed');
  await expect(may.getByRole('row').filter({ hasText: 'manage-access' })).toContainText('not allowed');

  // The sign-in is in the activity log.
  await shell.goto('/activity');
  await expect(shell.main.getByRole('row').filter({ hasText: 'Otto Operator' }).first()).toContainText('sign-in');

  const csv = await page.request.get('/activity/export.csv?action=sign-in');
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain('Otto Operator');
  await expect(shell.main.getByRole('link', { name: 'CSV' })).toHaveAttribute('href', '/activity/export.csv');

  await shell.userArea.getByRole('button', { name: 'Sign out' }).click();
  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Not signed in');
  const me = await page.request.get('/auth/me');
  expect(me.status()).toBe(401);
});

test('an unknown development identity is refused with a clear page', async ({ request }) => {
  const res = await request.post('/auth/dev', { form: { identity: 'root' } });
  expect(res.status()).toBe(400);
  expect(await res.text()).toContain('admin, operator, viewer, cluster-admin');
});

test('signing in from a page that needs it comes back to that page', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/activity?result=accepted');
  await shell.main.getByRole('link', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: /Vera Viewer/ }).click();
  await expect(page).toHaveURL(/\/activity\?result=accepted$/);
  await shell.waitUntilInteractive();
  await expect(shell.main.getByRole('table', { name: 'Activity' })).toBeVisible();
});

test('a sign-in link cannot send people to another site afterwards', async ({ request }) => {
  const res = await request.get('/auth/dev?next=//evil.example/');
  expect(await res.text()).toContain('name="next" value="/"');
});
