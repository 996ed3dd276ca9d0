// The Activity page: filters in the address, paging, exports of what is selected, clear errors.
import { expect, test } from '@playwright/test';
import { Shell } from '../pages/shell';

test('activity filters by who, what and result, and exports what is shown', async ({ page }) => {
  const shell = new Shell(page);
  await page.goto('/auth/dev');
  await page.getByRole('button', { name: /Vera Viewer/ }).click();
  await shell.waitUntilInteractive();
  // A denied attempt to record: a viewer may not list role bindings.
  const denied = await page.request.get('/api/access/bindings', { headers: { accept: 'application/json' } });
  expect(denied.status()).toBe(403);

  await shell.goto('/activity');
  const filters = shell.main.getByRole('form', { name: 'Filter activity' });
  await filters.getByLabel('Who').fill('Vera');
  await filters.getByLabel('Result').selectOption('denied');
  await filters.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/actor=Vera/);
  await expect(page).toHaveURL(/result=denied/);
  await shell.waitUntilInteractive();
  const rows = shell.main.getByRole('table', { name: 'Activity' }).getByRole('row');
  await expect(rows.filter({ hasText: 'manage-access' }).first()).toContainText('needs the admin role');
  await expect(rows.filter({ hasText: 'accepted' })).toHaveCount(0);
  // The filter form shows what is applied, and the export link carries it.
  await expect(filters.getByLabel('Who')).toHaveValue('Vera');
  const csv = shell.main.getByRole('link', { name: 'CSV' });
  await expect(csv).toHaveAttribute('href', /result=denied/);
  const exported = await page.request.get((await csv.getAttribute('href')) ?? '');
  expect(exported.status()).toBe(200);
  const text = await exported.text();
  expect(text).toContain('manage-access');
  expect(text).not.toContain(',accepted,');

  await shell.goto('/activity?action=no-such-action');
  await expect(shell.main.getByRole('heading', { name: 'Nothing matches these filters' })).toBeVisible();

  await shell.goto('/activity?from=yesterday');
  await expect(shell.main.getByRole('alert')).toContainText('YYYY-MM-DD');
});
