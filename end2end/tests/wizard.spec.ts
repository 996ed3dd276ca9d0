// The creation wizard with JavaScript on and off: an administrator goes through every step (a
// mistake at each is a field message that keeps what was typed), sees the cost and the YAML, creates
// the cluster and watches it become Healthy, then deletes it by typing its name. Viewers and
// operators find "Create cluster" disabled and the wizard's post refused.
import { expect, test } from '@playwright/test';
import { Kubesim } from '../pages/kubesim';
import { DevSignIn } from '../pages/signin';

const CAPI = '/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters';

test('an administrator creates a cluster with the wizard, then deletes it', async ({ page }, info) => {
  test.setTimeout(180_000);
  const js = info.project.use.javaScriptEnabled !== false;
  const name = `wiz-${info.project.name}-${Date.now().toString(36)}`;
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  await shell.goto('/clusters');
  await shell.main.getByRole('link', { name: 'Create cluster' }).click();
  await expect(page).toHaveURL(/\/clusters\/new/);
  await shell.waitUntilInteractive();
  const main = shell.main;
  await expect(main.getByRole('heading', { name: '1. Basics' })).toBeVisible();

  // Basics: a bad name is a field message, the name stays as typed.
  await main.getByLabel('Cluster name').fill('Bad_Name');
  if (js) await expect(main.locator('#field-name-error')).toContainText('must be 1–63 lowercase letters');
  await main.getByRole('button', { name: 'Next' }).click();
  await expect(main.getByRole('alert')).toContainText('Cluster name must be 1–63 lowercase letters');
  await expect(main.getByLabel('Cluster name')).toHaveValue('Bad_Name');
  // The refusal is a new page: its name check listens once it has come to life.
  await shell.waitUntilInteractive();
  await main.getByLabel('Cluster name').fill(name);
  if (js) await expect(main.locator('#field-name-error')).toContainText(`"${name}" is available.`);
  await expect(main.getByLabel('Kubernetes version')).toContainText('v1.34.2 — Latest');
  await expect(main.getByLabel('Kubernetes version')).toContainText('v1.31.8 — Ends soon');
  await main.getByLabel('Region').selectOption('northeurope');
  await main.getByLabel('Production').check();
  await main.getByLabel('Control plane replicas').selectOption('3');
  // Enter moves on, as Next does.
  await main.getByLabel('Cluster name').press('Enter');
  await expect(page).toHaveURL(/step=pools/);
  await shell.waitUntilInteractive();

  // Node pools: Production's system pool of 3 and autoscaling apps pool of 2–6.
  await expect(main.getByRole('heading', { name: '2. Node pools' })).toBeVisible();
  const cost = main.getByRole('region', { name: 'Estimated monthly cost' });
  // 0.192 × 3 × 730 = 420.48; 0.384 × 2..6 × 730 = 560.64..1,681.92.
  await expect(cost.locator('.total-cost')).toHaveText('$981.12 – $2,102.40');
  const system = main.getByRole('group', { name: 'Pool 1: system' });
  await system.getByRole('spinbutton', { name: 'Node count' }).fill('1');
  if (js) {
    // The cost follows at once: 0.192 × 1 × 730 = 140.16.
    await expect(cost.locator('.total-cost')).toHaveText('$700.80 – $1,822.08');
  }
  await main.getByRole('button', { name: 'Next' }).click();
  await expect(main.getByRole('alert')).toContainText('Pool 1: a system pool needs at least 2 nodes in Production.');
  await expect(system.getByRole('spinbutton', { name: 'Node count' })).toHaveValue('1');
  if (js) {
    // The slider and the number move together.
    await system.getByRole('slider', { name: 'Node count' }).fill('4');
    await expect(system.getByRole('spinbutton', { name: 'Node count' })).toHaveValue('4');
    await expect(cost.locator('.total-cost')).toHaveText('$1,121.28 – $2,242.56');
  } else {
    await system.getByRole('spinbutton', { name: 'Node count' }).fill('4');
  }
  await main.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=tags/);
  await shell.waitUntilInteractive();

  // Tags: markup refused, then Back and Next keep everything.
  await main.getByLabel('Tags', { exact: true }).fill('team=wizard\nnote=<b>hi</b>');
  await main.getByRole('button', { name: 'Next' }).click();
  await expect(main.getByRole('alert')).toContainText('markup is not a tag value');
  await main.getByLabel('Tags', { exact: true }).fill('team=wizard');
  await main.getByRole('button', { name: 'Back' }).click();
  await expect(page).toHaveURL(/step=pools/);
  await expect(main.getByRole('group', { name: 'Pool 1: system' }).getByRole('spinbutton', { name: 'Node count' })).toHaveValue('4');
  await main.getByRole('button', { name: 'Next' }).click();
  await expect(main.getByLabel('Tags', { exact: true })).toHaveValue('team=wizard');
  await main.getByRole('button', { name: 'Next' }).click();
  await expect(page).toHaveURL(/step=review/);
  await shell.waitUntilInteractive();

  // Review: the summary, the cost, the YAML of exactly what will be created.
  await expect(main.getByRole('heading', { name: '4. Review + create' })).toBeVisible();
  await expect(main.getByRole('status').filter({ hasText: 'Validation passed' })).toBeVisible();
  await expect(main.getByRole('region', { name: 'Estimated monthly cost' }).locator('.total-cost')).toHaveText('$1,121.28 – $2,242.56');
  await main.getByText('View as YAML').click();
  const yaml = await main.getByLabel('Cluster YAML').inputValue();
  expect(yaml).toContain(`name: ${name}`);
  expect(yaml).toContain('version: v1.34.2');
  expect(yaml).toContain("portolan.dev/tags: '{\"team\":\"wizard\"}'");
  await main.getByRole('button', { name: 'Create', exact: true }).dblclick();
  await expect(page).toHaveURL(new RegExp(`/clusters/default/${name}$`));

  // Created once, as shown; provisioning until Healthy, nodes joining.
  const kubesim = Kubesim.ofPortal();
  const created = await kubesim.call('GET', `${CAPI}/${name}`);
  expect(created.spec.topology.controlPlane.replicas).toBe(3);
  expect(created.spec.topology.workers.machineDeployments.map((p: any) => [p.name, p.replicas])).toEqual([['system', 4], ['apps', 2]]);
  expect(created.metadata.labels['portolan.dev/region']).toBe('northeurope');
  const list = await kubesim.call('GET', CAPI);
  expect(list.items.filter((c: any) => c.metadata.name === name)).toHaveLength(1);
  const facts = main.locator('dl[aria-label="Cluster"]');
  await expect(facts).toContainText('team=wizard');
  await expect(async () => {
    await page.reload();
    await expect(facts).toContainText('Healthy', { timeout: 1_000 });
  }).toPass({ timeout: 120_000 });
  await expect(facts).toContainText(/(\d+) of \1 ready/);

  // Delete: says what goes, wants the name typed.
  await shell.waitUntilInteractive();
  await main.getByRole('link', { name: 'Delete cluster' }).click();
  await shell.waitUntilInteractive();
  await expect(main.getByRole('region', { name: 'This destroys' })).toContainText('node pool system (4 nodes)');
  await main.getByLabel("Type the cluster's name to confirm").fill('wrong');
  await main.getByRole('button', { name: 'Delete cluster' }).click();
  await expect(main.getByRole('alert')).toContainText(`Type the cluster's name, ${name}, to confirm: nothing was deleted.`);
  await shell.goto(`/clusters/default/${name}/delete`);
  await main.getByLabel("Type the cluster's name to confirm").fill(name);
  await main.getByRole('button', { name: 'Delete cluster' }).click();
  await expect(main.getByText(`There is no cluster default/${name}`)).toBeVisible({ timeout: 120_000 });
});

test('viewers and operators cannot create clusters', async ({ browser }, info) => {
  for (const identity of ['Vera Viewer', 'Otto Operator'] as const) {
    const context = await browser.newContext({ javaScriptEnabled: info.project.use.javaScriptEnabled });
    const page = await context.newPage();
    const shell = await new DevSignIn(page).signInAs(identity);
    await shell.goto('/clusters');
    await expect(shell.main.getByRole('button', { name: 'Create cluster' })).toBeDisabled();
    await expect(shell.main.getByText('Creating clusters needs the portal-wide admin role.')).toBeVisible();
    await shell.goto('/clusters/new');
    await expect(shell.main).toContainText('admin');
    const res = await page.request.post('/clusters/new?step=review', {
      form: { go: 'create' },
      headers: { Origin: new URL(page.url()).origin },
    });
    expect(res.status()).toBe(403);
    await context.close();
  }
});
