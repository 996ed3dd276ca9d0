// The portal frame, with JavaScript on and off: it renders, navigates, themes, and fails politely.
import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SECTIONS, Shell } from '../pages/shell';

test('the shell renders the frame an Azure administrator expects', async ({ page }) => {
  const shell = new Shell(page);
  const response = await shell.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('Home · Portolan');
  await expect(shell.topBar.getByRole('link', { name: 'Portolan' })).toBeVisible();
  await expect(shell.userArea).toContainText('Not signed in');
  for (const section of SECTIONS) {
    await expect(shell.navLink(section)).toBeVisible();
  }
  await expect(shell.breadcrumb.getByRole('link', { name: 'Home' })).toBeVisible();
  await expect(shell.heading).toHaveText('Home');
});

test('the navigation leads to every section and marks where you are', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/');
  for (const section of SECTIONS) {
    await shell.navLink(section).click();
    await expect(page).toHaveURL(new RegExp(`/${section.toLowerCase()}$`));
    await expect(shell.heading).toHaveText(section);
    await expect(page).toHaveTitle(`${section} · Portolan`);
    await expect(shell.navLink(section)).toHaveAttribute('aria-current', 'page');
    await expect(shell.breadcrumb.getByRole('link', { name: section })).toHaveAttribute('aria-current', 'page');
  }
  await shell.breadcrumb.getByRole('link', { name: 'Home' }).click();
  await expect(shell.heading).toHaveText('Home');
});

test('sections ask anonymous visitors to sign in', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/clusters');
  await expect(shell.main.getByRole('heading', { name: 'Sign in to see this' })).toBeVisible();
  await expect(shell.main.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/auth/login?next=/clusters');
  await shell.goto('/dashboards');
  await expect(shell.main.getByRole('heading', { name: 'Sign in to see this' })).toBeVisible();
  await expect(shell.main.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/auth/login?next=/dashboards');
  await shell.goto('/activity');
  // Activity is for signed-in users: anonymous visitors are sent to sign in.
  await expect(shell.main.getByRole('heading', { name: 'Sign in to see this' })).toBeVisible();
  await expect(shell.main.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/auth/login?next=/activity');
});

test('an unknown address shows the 404 page inside the frame', async ({ page }) => {
  const shell = new Shell(page);
  const response = await shell.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(shell.heading).toHaveText('Page not found');
  await expect(shell.nav).toBeVisible();
  await shell.main.getByRole('link', { name: 'Go to Home' }).click();
  await expect(shell.heading).toHaveText('Home');
});

test('the theme menu switches light and dark, and the choice is remembered', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/clusters');
  await expect(shell.themeButton('System')).toHaveAttribute('aria-pressed', 'true');

  await shell.chooseTheme('Dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page).toHaveURL(/\/clusters$/);
  const dark = await shell.background();

  await shell.chooseTheme('Light');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  const light = await shell.background();
  expect(dark).not.toBe(light);

  await shell.goto('/clusters');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(shell.themeButton('Light')).toHaveAttribute('aria-pressed', 'true');

  await shell.chooseTheme('System');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'system');
});

test('the system theme follows prefers-color-scheme', async ({ page }) => {
  const shell = new Shell(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  await shell.goto('/');
  const dark = await shell.background();
  await page.emulateMedia({ colorScheme: 'light' });
  const light = await shell.background();
  expect(dark).not.toBe(light);
  expect(light).toBe('rgb(250, 249, 248)');
});

test('a 390 px phone gets the whole frame without sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const shell = new Shell(page);
  await shell.goto('/activity');
  await expect(shell.navLink('Clusters')).toBeVisible();
  await expect(shell.heading).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shell.navLink('Dashboards').click();
  await expect(shell.heading).toHaveText('Dashboards');
});

test('keyboard users can skip straight to the content', async ({ page }) => {
  const shell = new Shell(page);
  await shell.goto('/clusters');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
});

test('health endpoints answer', async ({ request }) => {
  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);
  expect(await health.text()).toBe('ok');
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', management: 'ok (v1.34.2)' });
});

test('README screenshots of the shell', async ({ page }, info) => {
  test.skip(info.project.name !== 'js', 'taken once, with the hydrated page');
  await page.setViewportSize({ width: 1280, height: 720 });
  const shell = new Shell(page);
  const publish = process.env.PORTOLAN_SCREENSHOTS === '1';
  const dir = publish ? path.resolve(__dirname, '../../public/screenshots') : info.outputDir;
  fs.mkdirSync(dir, { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await shell.goto('/');
    await expect(shell.heading).toHaveText('Home');
    const file = path.join(dir, `shell-${scheme}.png`);
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  }
});
