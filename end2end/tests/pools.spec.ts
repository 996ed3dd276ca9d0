// Scaling node pools, with JavaScript on and off: the node count slider by keyboard and by mouse,
// Apply followed as an operation until the nodes are Ready, the same pool changed by two people
// (the second is told, nothing is overwritten), and who gets which controls.
import { expect, test, type Page } from '@playwright/test';
import { Kubesim } from '../pages/kubesim';
import { type Shell } from '../pages/shell';
import { DevSignIn } from '../pages/signin';

/** The Node pools tab of `cluster`, once pool `pool` has all its `nodes` nodes Ready. */
async function poolsWhenReady(shell: Shell, cluster: string, pool: string, nodes: number) {
  const table = shell.main.getByRole('table', { name: 'Node pools' });
  await expect(async () => {
    await shell.goto(`/clusters/default/${cluster}/pools`);
    await expect(table.getByRole('row').filter({ hasText: pool }).first()).toContainText(`${nodes}/${nodes}`, { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  return table;
}

/** Waits on an operation's page (it reloads itself while running) until it has ended. */
async function operationEnds(page: Page, shell: Shell) {
  const summary = shell.main.getByRole('status', { name: 'Operation' });
  await expect(async () => {
    await page.reload();
    await expect(summary).not.toContainText('Running', { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  return summary;
}

test('an operator scales a pool with the slider by keyboard, then by mouse, each followed until done', async ({ page }, info) => {
  test.setTimeout(180_000);
  const js = info.project.use.javaScriptEnabled !== false;
  const cluster = `scale-${info.project.name}`;
  await Kubesim.ofPortal().createCluster(cluster, 1);
  const shell = await new DevSignIn(page).signInAs('Otto Operator');
  await poolsWhenReady(shell, cluster, 'work', 1);

  const slider = shell.main.getByRole('slider', { name: 'Node count for pool work' });
  const number = shell.main.getByRole('spinbutton', { name: 'Node count for pool work' });
  await expect(slider).toHaveValue('1');
  await expect(slider).toHaveAttribute('min', '0');
  // The slider covers up to twice the count (at least 10); the number takes up to the class's limit.
  await expect(slider).toHaveAttribute('max', '10');
  await expect(number).toHaveAttribute('max', '1000');
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('3');
  if (js) {
    // The number and the words follow the slider at once.
    await expect(number).toHaveValue('3');
    await expect(shell.main.locator('#scale-work-preview')).toHaveText(/^New node count: 3 \(\+2\); \+\$\d+\.\d\d a month\.$/);
  }
  await shell.main.getByRole('form', { name: 'Scale pool work', exact: true }).getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/\/operations\/[0-9a-f-]+$/);
  await expect(shell.main.getByRole('heading', { level: 1 })).toHaveText('Scale pool work from 1 to 3 nodes');
  let summary = await operationEnds(page, shell);
  await expect(summary).toContainText('Succeeded');
  await expect(summary).toContainText('pool work: all 3 nodes Ready');
  await expect(shell.main.getByRole('progressbar', { name: /^Progress of: Scale pool work/ })).toHaveAttribute('value', '2');
  await expect(shell.main.getByRole('table', { name: 'Steps' }).getByRole('row').filter({ hasText: 'Ready' })).toHaveCount(3);

  // The pool shows 3 Ready; by mouse, the slider's left end is 0 nodes.
  await poolsWhenReady(shell, cluster, 'work', 3);
  await slider.scrollIntoViewIfNeeded();
  const box = await slider.boundingBox();
  if (!box) throw new Error('the slider has no box');
  await page.mouse.click(box.x + 1, box.y + box.height / 2);
  await expect(slider).toHaveValue('0');
  const form = shell.main.getByRole('form', { name: 'Scale pool work', exact: true });
  if (js) await expect(shell.main.locator('#scale-work-preview')).toContainText('New node count: 0 (−3)');
  await form.getByRole('checkbox', { name: /Scale down anyway/ }).check();
  await form.getByRole('button', { name: 'Apply' }).click();
  await expect(shell.main.getByRole('heading', { level: 1 })).toHaveText('Scale pool work from 3 to 0 nodes');
  summary = await operationEnds(page, shell);
  await expect(summary).toContainText('Succeeded');
  await expect(shell.main.getByRole('table', { name: 'Steps' }).getByRole('row').filter({ hasText: 'Removed' })).toHaveCount(3);

  // The Operations page lists both, with their progress; the activity entry links to one.
  await shell.goto(`/operations?cluster=default/${cluster}`);
  const rows = shell.main.getByRole('table', { name: 'Operations' }).getByRole('row');
  await expect(rows.filter({ hasText: 'Scale pool work' })).toHaveCount(2);
  await expect(shell.main.getByRole('progressbar').first()).toHaveAttribute('max', '3');
  await shell.goto(`/activity?cluster=default/${cluster}`);
  await expect(shell.main.getByRole('link', { name: 'Operation' }).first()).toBeVisible();
});

test('two people change the same pool: the second is told it changed, and nothing is overwritten', async ({ browser }, info) => {
  test.setTimeout(120_000);
  const cluster = `race-${info.project.name}`;
  const kubesim = Kubesim.ofPortal();
  await kubesim.createCluster(cluster, 1);
  const use = { javaScriptEnabled: info.project.use.javaScriptEnabled };
  const [a, b] = [await browser.newContext(use), await browser.newContext(use)];
  const otto = await new DevSignIn(await a.newPage()).signInAs('Otto Operator');
  const ada = await new DevSignIn(await b.newPage()).signInAs('Ada Admin');
  await poolsWhenReady(otto, cluster, 'work', 1);
  await ada.goto(`/clusters/default/${cluster}/pools`);

  await otto.main.getByRole('spinbutton', { name: 'Node count for pool work' }).fill('2');
  await otto.main.getByRole('form', { name: 'Scale pool work', exact: true }).getByRole('button', { name: 'Apply' }).click();
  await expect(otto.main.getByRole('heading', { level: 1 })).toHaveText('Scale pool work from 1 to 2 nodes');

  await ada.main.getByRole('spinbutton', { name: 'Node count for pool work' }).fill('4');
  await ada.main.getByRole('form', { name: 'Scale pool work', exact: true }).getByRole('button', { name: 'Apply' }).click();
  await expect(ada.main.getByRole('alert')).toContainText('pool work changed since you opened it: now 2 nodes — review and apply again');
  await ada.goto(`/clusters/default/${cluster}/pools`);
  await expect(ada.main.getByRole('spinbutton', { name: 'Node count for pool work' })).toHaveValue('2');
  await a.close();
  await b.close();
});

test('viewers get no scaling controls and are refused; an autoscaled pool has its slider disabled', async ({ page, browser }, info) => {
  const viewer = await new DevSignIn(page).signInAs('Vera Viewer');
  await viewer.goto('/clusters/default/staging-eus/pools');
  await expect(viewer.main.getByRole('table', { name: 'Node pools' })).toBeVisible();
  await expect(viewer.main.getByRole('slider')).toHaveCount(0);
  await expect(viewer.main.getByText('Scaling pools needs the operator role for this cluster')).toBeVisible();
  const res = await page.request.post('/api/clusters/scale', {
    form: { namespace: 'default', name: 'staging-eus', pool: 'general', was: '2', key: 'viewer', count: '5' },
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(403);

  const other = await browser.newContext({ javaScriptEnabled: info.project.use.javaScriptEnabled });
  const operator = await new DevSignIn(await other.newPage()).signInAs('Otto Operator');
  await operator.goto('/clusters/default/prod-weu/pools');
  await expect(operator.main.getByRole('slider', { name: 'Node count for pool apps' })).toBeDisabled();
  await expect(operator.main.getByRole('form', { name: 'Scale pool apps', exact: true })).toContainText(
    "The autoscaler sets this pool's node count (2–6); turn autoscaling off to scale it by hand.",
  );
  await expect(operator.main.getByRole('slider', { name: 'Node count for pool system' })).toBeEnabled();
  // The cluster's only system pool keeps a node.
  await expect(operator.main.getByRole('slider', { name: 'Node count for pool system' })).toHaveAttribute('min', '1');
  await other.close();
});

test('an admin adds a pool, sees what deleting it would move, and deletes it', async ({ page }, info) => {
  test.setTimeout(180_000);
  const cluster = `addpool-${info.project.name}`;
  await Kubesim.ofPortal().createCluster(cluster, 1);
  const admin = await new DevSignIn(page).signInAs('Ada Admin');
  await poolsWhenReady(admin, cluster, 'work', 1);

  // The cluster's only system pool cannot be deleted, and says why.
  await expect(admin.main.getByText("Delete pool: not possible — pool general is the cluster's last system pool")).toBeVisible();
  const add = admin.main.getByRole('form', { name: 'Add a node pool' });
  await add.getByLabel('Pool name').fill('extra');
  await add.getByLabel('Mode').selectOption('user');
  await add.getByLabel('VM size').selectOption('Standard_D2s_v5');
  await add.getByLabel('Node count').fill('1');
  await add.getByRole('button', { name: 'Add pool' }).click();
  await expect(admin.main.getByRole('heading', { level: 1 })).toHaveText('Add pool extra with 1 node');
  await expect(async () => {
    await page.reload();
    await expect(admin.main.getByRole('status', { name: 'Operation' })).toContainText('Succeeded', { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });

  await poolsWhenReady(admin, cluster, 'extra', 1);
  const remove = admin.main.getByRole('form', { name: 'Delete pool extra', exact: true });
  await expect(remove).toContainText('Deleting pool extra removes its 1 node');
  await remove.getByRole('checkbox', { name: 'Delete pool extra and move its pods' }).check();
  await remove.getByRole('button', { name: 'Delete pool' }).click();
  await expect(admin.main.getByRole('heading', { level: 1 })).toHaveText('Delete pool extra');
  await expect(async () => {
    await page.reload();
    await expect(admin.main.getByRole('status', { name: 'Operation' })).toContainText('pool extra and its nodes are gone', { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  await admin.goto(`/clusters/default/${cluster}/pools`);
  await expect(admin.main.getByRole('heading', { name: 'Pool extra' })).toHaveCount(0);
});
