// Live pages across a portal restart (JavaScript only: without it nothing is live): a chart says it
// is reconnecting while the portal is down and follows new samples again once it is back; a kiosk
// says so too, reloads itself when the portal is back, and says when the session has ended.
import { expect, test } from '@playwright/test';
import { Charts, OwnPortal } from '../pages/charts';
import { DevSignIn } from '../pages/signin';

test('a live chart reconnects after the portal restarts', async ({ page }) => {
  test.setTimeout(90_000);
  const portal = new OwnPortal(3131);
  await portal.start();
  try {
    const shell = await new DevSignIn(page).signInAsAt(portal.url, 'Ada Admin');
    // A settled cluster without an autoscaler: an Overview that is following a change reloads
    // itself every few seconds, which would take the chart away in the middle of the test.
    await expect(async () => {
      await shell.goto(`${portal.url}/clusters/default/staging-eus?range=15m`);
      await expect(page.locator('meta[http-equiv="refresh"]')).toHaveCount(0, { timeout: 1_000 });
    }).toPass({ timeout: 60_000 });
    const charts = new Charts(page);
    const name = 'Memory of cluster default/staging-eus, last 15 m';
    await expect(charts.status(name)).toHaveText('Live', { timeout: 20_000 });

    await portal.kill();
    await expect(charts.status(name)).toHaveText('Paused — reconnecting', { timeout: 15_000 });
    const before = await charts.svgOf(name);

    await portal.start();
    await expect(charts.status(name)).toHaveText('Live', { timeout: 30_000 });
    await expect.poll(() => charts.svgOf(name), { timeout: 30_000 }).not.toBe(before);
  } finally {
    await portal.kill();
  }
});

test('a kiosk says when the portal is gone and when the session ended', async ({ page }) => {
  // The kiosk asks for its dashboard every 20 s: three waits of up to one round each.
  test.setTimeout(150_000);
  const portal = new OwnPortal(3132);
  await portal.start();
  try {
    const shell = await new DevSignIn(page).signInAsAt(portal.url, 'Ada Admin');
    await shell.goto(`${portal.url}/dashboards/new`);
    await shell.waitUntilInteractive();
    const form = shell.main.getByRole('form', { name: 'Dashboard' });
    await form.getByLabel('Name', { exact: true }).fill('Wall');
    await form.getByLabel('Clusters by tag').fill('team=payments');
    await form.getByRole('button', { name: 'Create dashboard' }).click();
    await expect(page).toHaveURL(/\/dashboards\/wall$/);
    await shell.goto(`${portal.url}/dashboards/wall?kiosk=1`);
    await shell.waitUntilInteractive();
    const tiles = shell.main.getByRole('list', { name: 'Clusters' });
    await expect(tiles.getByRole('listitem', { name: 'default/prod-weu' })).toBeVisible();
    const gone = shell.main.getByText(/^Reconnecting: the portal does not answer; these numbers are from /);
    const signedOut = shell.main.getByText(/^Signed out: these numbers stopped at .*\. Sign in again to follow them\.$/);

    await portal.kill();
    await expect(gone).toBeVisible({ timeout: 30_000 });
    await portal.start();
    // Back: the kiosk reloads itself with current numbers.
    await expect(gone).toBeHidden({ timeout: 40_000 });
    await expect(tiles.getByRole('listitem', { name: 'default/prod-weu' })).toBeVisible();

    // The session ends (its cookie is gone): the kiosk says so instead of showing old numbers.
    await page.context().clearCookies();
    await expect(signedOut).toBeVisible({ timeout: 30_000 });
    await expect(tiles.getByRole('listitem', { name: 'default/prod-weu' })).toBeVisible();
  } finally {
    await portal.kill();
  }
});
