// With JavaScript on: the page hydrates under the strict CSP, and navigation stays in the page.
import { expect, test } from '@playwright/test';
import { Shell } from '../pages/shell';

test.beforeEach(({}, info) => {
  test.skip(info.project.name !== 'js', 'hydration needs JavaScript');
});

test('the page hydrates without console errors or CSP violations', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(err.message));
  const shell = new Shell(page);
  await shell.goto('/activity');
  await expect(shell.main.getByRole('heading', { name: 'Sign in to see this' })).toBeVisible();
  expect(problems).toEqual([]);
});

test('navigation after hydration happens in the page, without a reload', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/');
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'still here'));
  await shell.navLink('Activity').click();
  await expect(shell.heading).toHaveText('Activity');
  await shell.navLink('Access').click();
  await expect(shell.heading).toHaveText('Access');
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('still here');
});

test('the theme changes in place, without a reload', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/dashboards');
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'still here'));
  await shell.chooseTheme('Dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('still here');
});
