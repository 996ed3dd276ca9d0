// Team dashboards, with JavaScript on and off: an operator makes one with the form (a bad tag is
// a field error), a viewer opens its address, and kiosk mode drops the frame for a wall screen.
import { expect, test } from '@playwright/test';
import { Charts } from '../pages/charts';
import { DevSignIn } from '../pages/signin';

test('an operator makes a dashboard and a viewer opens it, also as a kiosk', async ({ page, browser }, info) => {
  // Two people, two browsers, eight pages.
  test.setTimeout(90_000);
  const name = `Payments ${info.project.name}`;
  const slug = `payments-${info.project.name}`;
  const shell = await new DevSignIn(page).signInAs('Otto Operator');
  await shell.goto('/dashboards');
  await shell.main.getByRole('link', { name: 'New dashboard' }).click();
  await shell.waitUntilInteractive();
  const form = shell.main.getByRole('form', { name: 'Dashboard' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Clusters by tag').fill('team=pay ments');
  await form.getByRole('button', { name: 'Create dashboard' }).click();
  await expect(shell.main.getByRole('alert')).toContainText('selector: "team=pay ments" is not a tag');

  await shell.goto('/dashboards/new');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Clusters by tag').fill('team=payments');
  await form.getByLabel('Memory charts').uncheck();
  await form.getByRole('button', { name: 'Create dashboard' }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboards/${slug}$`));
  await shell.waitUntilInteractive();
  await expect(shell.heading).toHaveText(name);
  const tiles = shell.main.getByRole('list', { name: 'Clusters' });
  await expect(tiles.getByRole('listitem', { name: 'default/prod-weu' })).toContainText(/nodes ready/);
  await expect(shell.main.getByRole('heading', { name: 'Warnings' })).toBeVisible();
  await expect(new Charts(page).chart('CPU of cluster default/prod-weu')).toBeVisible();
  await expect(new Charts(page).chart('Memory of cluster')).toHaveCount(0);

  // A viewer, in another browser, at the shareable address.
  const other = await browser.newContext({ javaScriptEnabled: info.project.use.javaScriptEnabled });
  const viewerPage = await other.newPage();
  const viewer = await new DevSignIn(viewerPage).signInAs('Vera Viewer');
  await viewer.goto('/dashboards');
  await expect(viewer.main.getByRole('link', { name: 'New dashboard' })).toHaveCount(0);
  await viewer.main.getByRole('link', { name }).click();
  await viewer.waitUntilInteractive();
  await expect(viewerPage).toHaveURL(new RegExp(`/dashboards/${slug}$`));
  await expect(viewer.main.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await viewer.main.getByRole('link', { name: 'Kiosk' }).click();
  await viewer.waitUntilInteractive();
  await expect(viewerPage).toHaveURL(/kiosk=1/);
  await expect(viewer.nav).toBeHidden();
  await expect(viewer.topBar).toBeHidden();
  await expect(viewer.heading).toHaveText(name);
  const size = await viewer.heading.evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(size).toBeGreaterThan(30);
  await expect(viewer.main.getByRole('link', { name: 'Leave kiosk' })).toBeVisible();
  await other.close();
});
