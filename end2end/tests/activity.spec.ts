// The Activity page: filters in the address, paging, exports of what is selected, clear errors.
import { expect, test } from '@playwright/test';
import { ActivityPage } from '../pages/activity';
import { DevSignIn } from '../pages/signin';

test('activity filters by who, what and result, and exports what is shown', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Vera Viewer');
  // A denied attempt to record: a viewer may not list role bindings.
  const denied = await page.request.get('/api/access/bindings', { headers: { accept: 'application/json' } });
  expect(denied.status()).toBe(403);

  const activity = new ActivityPage(shell);
  await activity.open();
  await activity.filter({ who: 'Vera', result: 'denied' });
  await expect(page).toHaveURL(/actor=Vera/);
  await expect(page).toHaveURL(/result=denied/);
  await shell.waitUntilInteractive();
  await expect(activity.rowsWith('manage-access').first()).toContainText('needs the admin role');
  await expect(activity.rowsWith('accepted')).toHaveCount(0);
  // The filter form shows what is applied, and the export link carries it.
  await expect(activity.filters.getByLabel('Who')).toHaveValue('Vera');
  await expect(activity.csv).toHaveAttribute('href', /result=denied/);
  const exported = await page.request.get((await activity.csv.getAttribute('href')) ?? '');
  expect(exported.status()).toBe(200);
  const text = await exported.text();
  expect(text).toContain('manage-access');
  expect(text).not.toContain(',accepted,');

  await activity.open('action=no-such-action');
  await expect(shell.main.getByRole('heading', { name: 'Nothing matches these filters' })).toBeVisible();

  await activity.open('from=yesterday');
  await expect(shell.main.getByRole('alert')).toContainText('YYYY-MM-DD');
});
