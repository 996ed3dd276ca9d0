// Upgrading Kubernetes, with JavaScript on and off: the Overview offers the next versions, the
// preflight finds the PodDisruptionBudget that would block a drain and asks for "Upgrade anyway",
// the operation shows the drain blocked by it (and the Overview refuses a second upgrade, linking
// the running one), and once the budget is gone the upgrade runs to its end. Viewers see the
// versions without the buttons.
import { expect, test, type Page } from '@playwright/test';
import { Kubesim } from '../pages/kubesim';
import { type Shell } from '../pages/shell';
import { DevSignIn } from '../pages/signin';

/** Reloads `page` until `check` passes (pages that follow progress reload themselves too). */
async function untilShown(page: Page, check: () => Promise<void>, timeout = 90_000) {
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout });
}

test('an upgrade stalls on a blocking PodDisruptionBudget the preflight found, then completes', async ({ page }, info) => {
  test.setTimeout(240_000);
  const cluster = `upgrade-${info.project.name}`;
  const kubesim = Kubesim.ofPortal();
  await kubesim.createCluster(cluster, 1);
  const shell: Shell = await new DevSignIn(page).signInAs('Otto Operator');

  // The Overview: versions, what is offered, and the buttons once the cluster is ready.
  await shell.goto(`/clusters/default/${cluster}`);
  const versions = shell.main.getByRole('table', { name: 'Versions' });
  await untilShown(page, async () => {
    await expect(versions.getByRole('row', { name: /^Control plane / })).toContainText(
      'upgrades available: v1.33.0, v1.33.2, v1.33.5', { timeout: 1_000 });
    await expect(shell.main.getByRole('link', { name: 'Upgrade', exact: true })).toBeVisible({ timeout: 1_000 });
  });
  await expect(versions.getByRole('row', { name: /^Pool work / })).toContainText('v1.32.7');
  await expect(shell.main.getByRole('link', { name: 'Upgrade control plane only' })).toBeVisible();
  // The ledger's team protects it with a budget that allows no disruption.
  await expect(async () => kubesim.addBlockingBudget(cluster, 'payments', 'ledger')).toPass({ timeout: 30_000 });

  await shell.main.getByRole('link', { name: 'Upgrade', exact: true }).click();
  await expect(page).toHaveURL(/\/upgrade\?to=v1\.33\.5&scope=all$/);
  const preflight = shell.main.getByRole('region', { name: 'Preflight: upgrade the control plane and all pools to v1.33.5' });
  await untilShown(page, async () => {
    await expect(preflight).toContainText('PodDisruptionBudget payments/ledger-pdb allows no disruption', { timeout: 1_000 });
  }, 60_000);
  await expect(preflight).toContainText('Control plane: v1.32.7 → v1.33.5.');
  await expect(preflight).toContainText('Surge: 2 extra nodes while it runs');
  await expect(preflight).toContainText('Estimated duration: about');
  await expect(preflight.getByRole('listitem').filter({ hasText: /^payments\/ledger-.* on / }).first()).toBeVisible();
  await expect(preflight.getByRole('button', { name: 'Upgrade', exact: true })).toHaveCount(0);
  await preflight.getByRole('button', { name: 'Upgrade anyway' }).click();

  // Followed: the drain that the budget blocks says so and what to do.
  await expect(page).toHaveURL(/\/operations\/[0-9a-f-]+$/);
  const operation = page.url();
  await expect(shell.main.getByRole('heading', { level: 1 })).toHaveText('Upgrade the control plane and all pools to v1.33.5');
  const summary = shell.main.getByRole('status', { name: 'Operation' });
  const steps = shell.main.getByRole('table', { name: 'Steps' });
  await untilShown(page, async () => {
    await expect(summary).toContainText('Blocked: ', { timeout: 1_000 });
  });
  await expect(summary).toContainText('ledger-pdb');
  await expect(summary).toContainText('relax or delete the PodDisruptionBudget: the upgrade goes on by itself');
  await expect(steps.getByRole('row').filter({ hasText: 'Blocked' })).toHaveCount(1);
  await expect(steps.getByRole('row', { name: /^control plane / })).toContainText('Upgraded');

  // Meanwhile a second upgrade is refused, with the running one linked.
  await shell.goto(`/clusters/default/${cluster}`);
  await expect(shell.main.getByRole('status').filter({ hasText: 'An upgrade is running' })).toBeVisible();
  await expect(shell.main.getByRole('button', { name: 'Upgrade', exact: true })).toBeDisabled();
  await shell.main.getByRole('link', { name: 'follow it' }).click();
  await expect(page).toHaveURL(operation);

  // The budget goes; the upgrade goes on to the end, every node replaced.
  await kubesim.deleteBudget(cluster, 'payments', 'ledger-pdb');
  await untilShown(page, async () => {
    await expect(summary).toContainText('Succeeded', { timeout: 1_000 });
  });
  await expect(summary).toContainText('Kubernetes v1.33.5: control plane upgraded;');
  await expect(steps.getByRole('row').filter({ hasText: 'Blocked' })).toHaveCount(0);
  await expect(shell.main.getByRole('progressbar', { name: /^Progress of: Upgrade the control plane/ })).toHaveAttribute('value', /^[1-9]\d*$/);
  await shell.goto(`/clusters/default/${cluster}`);
  await expect(versions.getByRole('row', { name: /^Control plane / })).toContainText('v1.33.5');
});

test('viewers see the versions without the upgrade buttons and are refused', async ({ page }) => {
  const viewer = await new DevSignIn(page).signInAs('Vera Viewer');
  await viewer.goto('/clusters/default/staging-eus');
  await expect(viewer.main.getByRole('table', { name: 'Versions' })).toBeVisible();
  await expect(viewer.main.getByRole('link', { name: 'Upgrade', exact: true })).toHaveCount(0);
  await expect(viewer.main.getByText('Upgrading needs the operator role for this cluster')).toBeVisible();
  const res = await page.request.post('/api/upgrades/start', {
    form: { namespace: 'default', name: 'staging-eus', to: 'v1.33.5', scope: 'all', was: 'v1.32.7;', key: 'viewer' },
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(403);
});
