// A live chart across a portal restart (JavaScript only: without it nothing is live): it says it is
// reconnecting while the portal is down and follows new samples again once it is back.
import { expect, test } from '@playwright/test';
import { Charts, OwnPortal } from '../pages/charts';
import { DevSignIn } from '../pages/signin';

test('a live chart reconnects after the portal restarts', async ({ page }) => {
  test.setTimeout(90_000);
  const portal = new OwnPortal(3131);
  await portal.start();
  try {
    const shell = await new DevSignIn(page).signInAsAt(portal.url, 'Ada Admin');
    await shell.goto(`${portal.url}/clusters/default/prod-weu?range=15m`);
    const charts = new Charts(page);
    const name = 'Memory of cluster default/prod-weu, last 15 m';
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
