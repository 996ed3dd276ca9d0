// The development sign-in (no identity provider, loopback): sign in, see who you are, sign out.
import { expect, test } from '@playwright/test';
import { AccessPage } from '../pages/access';
import { ActivityPage } from '../pages/activity';
import { Shell } from '../pages/shell';
import { DevSignIn } from '../pages/signin';

test('the development sign-in signs a seeded identity in and out', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/');
  await expect(shell.userArea).toContainText('Not signed in');

  await shell.userArea.getByRole('link', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByText('Development sign-in.')).toBeVisible();
  await new DevSignIn(page).choose('Otto Operator');

  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Otto Operator');
  await expect(shell.userArea.getByText('OO')).toBeVisible();

  // The Access page shows their groups, the binding that applies and what they may do.
  const access = new AccessPage(shell);
  await access.open();
  await expect(shell.main.getByText('platform-operators').first()).toBeVisible();
  await expect(access.yourBindings).toContainText('group platform-operators');
  await expect(access.yourBindings).toContainText('operator');
  await expect(access.action('scale-pool')).toContainText('allowed');
  await expect(access.action('manage-access')).toContainText('not allowed');

  // The sign-in is in the activity log.
  const activity = new ActivityPage(shell);
  await activity.open();
  await expect(activity.rowsWith('Otto Operator').first()).toContainText('sign-in');

  const csv = await page.request.get('/activity/export.csv?action=sign-in');
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain('Otto Operator');
  await expect(activity.csv).toHaveAttribute('href', '/activity/export.csv');

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
  await new DevSignIn(page).choose('Vera Viewer');
  await expect(page).toHaveURL(/\/activity\?result=accepted$/);
  await shell.waitUntilInteractive();
  await expect(new ActivityPage(shell).table).toBeVisible();
});

test('a sign-in link cannot send people to another site afterwards', async ({ request }) => {
  const res = await request.get('/auth/dev?next=//evil.example/');
  expect(await res.text()).toContain('name="next" value="/"');
});
