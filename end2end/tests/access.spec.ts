// Managing access on the Access page: administrators add and remove role bindings (validated,
// recorded) and ask what a group may do; everyone else sees the control disabled with the reason.
import { expect, test } from '@playwright/test';
import { AccessPage } from '../pages/access';
import { ActivityPage } from '../pages/activity';
import { DevSignIn } from '../pages/signin';

test('an administrator adds a cluster-scoped binding, checks it in the simulator and removes it', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  const access = new AccessPage(shell);
  await access.open();
  const team = `payments-${test.info().project.name}-${Date.now()}`;
  await expect(access.allBindings).toContainText('group portolan-admins');

  // Markup in a group name is refused with a clear message (without JavaScript too: the page comes
  // back with it), and nothing is added.
  await access.add('<b>bold</b>');
  await expect(shell.main.getByRole('alert')).toContainText('markup');
  await expect(access.allBindings).not.toContainText('<b>bold</b>');

  await access.add(team, 'operator', 'default/prod-weu');
  const row = access.bindingOf(team);
  await expect(row).toContainText('operator');
  await expect(row).toContainText('cluster default/prod-weu');

  // The simulator: operator on prod-weu only.
  await access.simulate(team);
  await expect(access.simulatedAt('cluster default/prod-weu')).toContainText('scale-pool');
  await expect(access.simulatedAt('cluster default/staging-eus')).toContainText('nothing');
  await expect(access.simulatedAt('portal-wide')).toContainText('none');

  await access.remove(team);
  await expect(access.allBindings).not.toContainText(team);

  const activity = new ActivityPage(shell);
  await activity.open();
  await expect(activity.rowsWith('revoke-role').first()).toContainText('cluster/default/prod-weu');
  await expect(activity.rowsWith('grant-role').first()).toContainText('accepted');

  // The log says what changed for whom, and finds the changes by their subject.
  await activity.open(`actor=${team}`);
  const granted = activity.rowsWith(`granted operator to group ${team}, on default/prod-weu`);
  const removed = activity.rowsWith(`removed operator of default/prod-weu from group ${team}`);
  await expect(granted).toHaveCount(1);
  await expect(removed).toHaveCount(1);
  await expect(granted).toContainText('Ada Admin');
  // Before and after, expandable without JavaScript (details/summary).
  await granted.getByText('Before and after').click();
  await expect(granted.locator('pre')).toBeVisible();
  await expect(granted.locator('pre')).toContainText(`"subject": "${team}"`);
  const csv = await page.request.get(`/activity/export.csv?actor=${team}`);
  expect(await csv.text()).toContain(`granted operator to group ${team}, on default/prod-weu`);
  const jsonl = await page.request.get(`/activity/export.jsonl?actor=${team}`);
  expect(await jsonl.text()).toContain(`"summary":"removed operator of default/prod-weu from group ${team}"`);
});

test('people who may not manage access see the control disabled, with the role it needs', async ({ page }) => {
  const access = new AccessPage(await new DevSignIn(page).signInAs('Cora Cluster-Admin'));
  await access.open();
  await expect(access.addButton).toBeDisabled();
  await expect(access.addButton).toHaveAttribute('title', 'Needs the admin role');
  await expect(access.allBindings).toHaveCount(0);
  // The server is the guard: a direct call is refused too.
  const res = await page.request.post('/api/access/bindings/add', {
    form: { kind: 'user', subject: 'dev-cluster-admin', role: 'admin', cluster: '' },
    headers: { accept: 'application/json' },
  });
  expect(res.status()).toBe(403);
});
