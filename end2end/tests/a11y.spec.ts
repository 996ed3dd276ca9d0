// Accessibility: axe (the engine browser tools use) on the fleet, a cluster's Overview, its tags
// form, its Node pools tab (sliders and autoscaler forms), every step of the creation wizard, the
// Delete page, the Operations page and the upgrade page with its preflight, in the light and the dark theme — no serious or critical
// violations. JavaScript only: axe runs as a script in the page.
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { DevSignIn } from '../pages/signin';

for (const scheme of ['light', 'dark'] as const)
for (const path of ['/clusters', '/clusters/default/prod-weu', '/clusters/default/prod-weu/tags',
  '/clusters/new?step=basics', '/clusters/new?step=pools', '/clusters/new?step=tags', '/clusters/new?step=review',
  '/clusters/default/prod-weu/delete', '/clusters/default/prod-weu/pools', '/operations',
  '/clusters/default/prod-weu/upgrade?to=v1.34.2&scope=all']) {
  test(`no serious or critical accessibility violations on ${path}, ${scheme}`, async ({ page }) => {
    // Colour contrast is checked in both themes (the theme follows the system's by default).
    await page.emulateMedia({ colorScheme: scheme });
    const shell = await new DevSignIn(page).signInAs('Ada Admin');
    await shell.goto(path);
    await shell.waitUntilInteractive();
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`);
    expect(serious).toEqual([]);
  });
}
