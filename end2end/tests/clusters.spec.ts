// The fleet and cluster pages, with JavaScript on and off: search, filters, sorting and paging in
// the address; each tab of a demo cluster; a node page; a pod's log (followed live with JavaScript);
// and what a person bound to one cluster sees of the others (nothing, not even a 403).
import { expect, test } from '@playwright/test';
import { ClusterView, FleetPage } from '../pages/clusters';
import { Kubesim } from '../pages/kubesim';
import { DevSignIn } from '../pages/signin';

const DEMO = ['ml-sea', 'prod-weu', 'staging-eus'];

test('the fleet searches, filters and sorts through the address', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  const fleet = new FleetPage(shell);
  await fleet.open();
  await fleet.waitFor(['prod-weu', 'ml-sea'], 'Healthy');
  const prod = fleet.row('prod-weu');
  for (const text of ['westeurope', 'v1.33.5', 'upgrade available', 'team=payments']) {
    await expect(prod).toContainText(text);
  }
  // The apps pool autoscales (2–6 nodes): every node is ready, however many there are.
  await expect(prod).toContainText(/All \d+ nodes Ready/);
  await expect(prod.getByRole('cell').filter({ hasText: /^(\d+)\/\1$/ })).toHaveCount(1);

  await fleet.search('ml');
  await expect(page).toHaveURL(/[?&]q=ml/);
  await shell.waitUntilInteractive();
  expect(await fleet.names()).toEqual(['ml-sea']);

  await fleet.open();
  await fleet.counts.getByRole('link', { name: /^Healthy/ }).click();
  await expect(page).toHaveURL(/health=healthy/);
  await shell.waitUntilInteractive();
  await expect(fleet.filters.getByLabel('Health')).toHaveValue('healthy');
  await expect(fleet.row('prod-weu')).toBeVisible();

  // The demo clusters carry team tags (other tests add clusters without any).
  await fleet.open('tag=team');
  await fleet.sortBy('Kubernetes version');
  await expect(page).toHaveURL(/sort=version/);
  await shell.waitUntilInteractive();
  await expect(fleet.table.getByRole('columnheader', { name: 'Kubernetes version' })).toHaveAttribute('aria-sort', 'ascending');
  expect((await fleet.names()).filter((n) => DEMO.includes(n))).toEqual(['staging-eus', 'prod-weu', 'ml-sea']);
  await fleet.sortBy('Kubernetes version');
  await expect(page).toHaveURL(/dir=desc/);
  await shell.waitUntilInteractive();
  expect((await fleet.names()).filter((n) => DEMO.includes(n))).toEqual(['ml-sea', 'prod-weu', 'staging-eus']);

  // A bookmarked view opens as it was; a nonsense filter gets a clear message.
  await fleet.open('region=eastus&q=staging');
  expect(await fleet.names()).toEqual(['staging-eus']);
  await fleet.open('health=sick');
  await expect(shell.main.getByRole('alert')).toContainText('is not a health state');
});

test('the fleet pages through many clusters', async ({ page }, info) => {
  // Named to sort after the demo clusters: the other tests find those on the first page.
  const prefix = `zpage-${info.project.name}`;
  await Kubesim.ofPortal().createPausedClusters(prefix, 60);
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  const fleet = new FleetPage(shell);
  await fleet.open(`q=${prefix}`);
  await expect(fleet.summary).toContainText('60 of');
  await expect(fleet.summary).toContainText('page 1 of 2');
  expect(await fleet.names()).toHaveLength(50);
  await shell.main.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/page=2/);
  await shell.waitUntilInteractive();
  expect(await fleet.names()).toEqual(Array.from({ length: 10 }, (_, i) => `${prefix}-${String(50 + i).padStart(3, '0')}`));
  await shell.main.getByRole('link', { name: '← Previous' }).click();
  await expect(fleet.summary).toContainText('page 1 of 2');
});

test('each tab of a demo cluster, and a node page', async ({ page }) => {
  // Seven pages, each with its charts.
  test.setTimeout(60_000);
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  const fleet = new FleetPage(shell);
  await fleet.open();
  await fleet.waitFor(['prod-weu'], 'Healthy');
  await fleet.table.getByRole('link', { name: 'prod-weu', exact: true }).click();
  await expect(page).toHaveURL(/\/clusters\/default\/prod-weu$/);
  await shell.waitUntilInteractive();
  const cluster = new ClusterView(shell);
  await expect(shell.heading).toHaveText('prod-weu');
  await expect(cluster.tab('Overview')).toHaveAttribute('aria-current', 'page');
  await expect(shell.main.getByRole('definition').filter({ hasText: '3 of 3 ready' })).toBeVisible();
  await expect(cluster.table('Conditions')).toContainText('ControlPlaneAvailable');

  await cluster.tab('Node pools').click();
  await shell.waitUntilInteractive();
  const pools = cluster.table('Node pools');
  await expect(pools.getByRole('row').filter({ hasText: 'apps' })).toContainText('Standard_D8s_v5 (8 vCPU, 32 GiB)');
  await expect(pools.getByRole('row').filter({ hasText: 'apps' })).toContainText('2–6');
  await expect(pools.getByRole('row').filter({ hasText: 'system' })).toContainText('System');

  await cluster.tab('Nodes').click();
  await shell.waitUntilInteractive();
  const nodes = cluster.table('Nodes');
  expect(await nodes.locator('tbody tr').count()).toBeGreaterThanOrEqual(4);
  await expect(nodes.locator('tbody tr').first()).toContainText('Ready');
  await expect(nodes.locator('meter').first()).toBeVisible();
  const first = nodes.locator('tbody a').first();
  const nodeName = (await first.textContent()) ?? '';
  await first.click();
  await shell.waitUntilInteractive();
  await expect(shell.main.getByRole('heading', { name: `Node ${nodeName}` })).toBeVisible();
  await expect(cluster.table('Node conditions')).toContainText('KubeletReady');
  await expect(cluster.table('Pods').locator('tbody tr').first()).toBeVisible();

  await cluster.tab('Pods').click();
  await shell.waitUntilInteractive();
  await shell.main.getByLabel('Namespace').selectOption('kube-system');
  await shell.main.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/namespace=kube-system/);
  await shell.waitUntilInteractive();
  const pods = cluster.table('Pods');
  await expect(pods.locator('tbody tr').first()).toContainText('kube-system');
  await expect(pods).not.toContainText('payments');

  await cluster.tab('Events').click();
  await shell.waitUntilInteractive();
  await expect(cluster.table('Events')).toContainText('Scheduled');
});

/** Signs in, opens a running coredns pod of ml-sea and its Logs page; returns the log's lines. */
async function openLog(page: import('@playwright/test').Page) {
  const kubesim = Kubesim.ofPortal();
  const shell = await new DevSignIn(page).signInAs('Otto Operator');
  const fleet = new FleetPage(shell);
  await fleet.open();
  await fleet.waitFor(['ml-sea'], 'Healthy');
  const pod = await kubesim.runningPod('ml-sea', 'kube-system', 'coredns');
  await shell.goto(`/clusters/default/ml-sea/pods/kube-system/${pod}`);
  const cluster = new ClusterView(shell);
  await expect(cluster.table('Containers')).toContainText('coredns');
  await shell.main.getByRole('link', { name: 'Logs' }).click();
  await expect(page).toHaveURL(/\/logs$/);
  await shell.waitUntilInteractive();
  const lines = cluster.logLines();
  await expect(lines.first()).toBeVisible();
  return { shell, lines };
}

test("a pod's log shows its last lines at load", async ({ page }) => {
  const { shell, lines } = await openLog(page);
  expect(await lines.count()).toBeGreaterThan(3);
  await expect(shell.main.locator('select[name="container"]')).toHaveValue('coredns');
  await expect(shell.main.getByRole('link', { name: 'Download' })).toHaveAttribute('href', /logs\/download\?container=coredns/);
});

test("a pod's log follows new lines live, and pauses", async ({ page }, info) => {
  test.skip(info.project.name === 'nojs', 'following a log live needs JavaScript (server-sent events)');
  const { shell, lines } = await openLog(page);
  const atLoad = await lines.count();
  const follow = shell.main.getByRole('button', { name: 'Follow' });
  await follow.click();
  await expect(follow).toHaveAttribute('aria-pressed', 'true');
  // New lines arrive without a reload (a line every few simulated seconds, 30× real time).
  await expect.poll(() => lines.count(), { timeout: 15_000 }).toBeGreaterThan(atLoad + 2);
  await shell.main.getByRole('button', { name: 'Pause' }).click();
  await expect(shell.main.getByRole('status').filter({ hasText: 'Paused' })).toBeVisible();
  const paused = await lines.count();
  await page.waitForTimeout(1500);
  expect(await lines.count()).toBe(paused);
  await shell.main.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(() => lines.count(), { timeout: 15_000 }).toBeGreaterThan(paused);
});

test('a cluster-scoped person sees only their cluster, and 404 for the others', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Cora Cluster-Admin');
  const fleet = new FleetPage(shell);
  await fleet.open();
  await expect(fleet.row('prod-weu')).toBeVisible();
  expect(await fleet.names()).toEqual(['prod-weu']);
  await expect(shell.main).not.toContainText('staging-eus');
  await expect(shell.main).not.toContainText('southeastasia');

  const own = await shell.goto('/clusters/default/prod-weu');
  expect(own?.status()).toBe(200);
  await expect(shell.main.getByRole('link', { name: 'Download kubeconfig' })).toBeVisible();

  for (const path of ['/clusters/default/staging-eus', '/clusters/default/ml-sea/pods', '/clusters/default/no-such']) {
    const response = await shell.goto(path);
    expect(response?.status(), path).toBe(404);
    await expect(shell.heading).toHaveText('Page not found');
  }
  const download = await page.request.get('/clusters/default/staging-eus/kubeconfig');
  expect(download.status()).toBe(404);
});

test('viewers get no kubeconfig link', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Vera Viewer');
  await shell.goto('/clusters/default/prod-weu');
  await expect(shell.heading).toHaveText('prod-weu');
  await expect(shell.main.getByRole('link', { name: 'Download kubeconfig' })).toHaveCount(0);
  const download = await page.request.get('/clusters/default/prod-weu/kubeconfig');
  expect(download.status()).toBe(403);
});
