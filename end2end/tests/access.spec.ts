// Managing access on the Access page: administrators add and remove role bindings (validated,
// recorded) and ask what a group may do; everyone else sees the control disabled with the reason.
import { expect, test, type Page } from '@playwright/test';
import { Shell } from '../pages/shell';

async function signInAs(page: Page, identity: string) {
  const shell = new Shell(page);
  await page.goto('/auth/dev');
  await page.getByRole('button', { name: new RegExp(identity) }).click();
  await shell.waitUntilInteractive();
  return shell;
}

test('an administrator adds a cluster-scoped binding, checks it in the simulator and removes it', async ({ page }) => {
  const shell = await signInAs(page, 'Ada Admin');
  await shell.goto('/access');
  const team = `payments-${test.info().project.name}-${Date.now()}`;
  const all = shell.main.getByRole('table', { name: 'All role bindings' });
  await expect(all).toContainText('group portolan-admins');

  const form = shell.main.getByRole('form', { name: 'Add a role binding' });
  // Markup in a group name is refused with a clear message (without JavaScript too: the page comes
  // back with it), and nothing is added.
  await form.getByLabel('Group or user').fill('<b>bold</b>');
  await form.getByRole('button', { name: 'Add binding' }).click();
  await expect(shell.main.getByRole('alert')).toContainText('markup');
  await expect(all).not.toContainText('<b>bold</b>');

  await form.getByLabel('Group or user').fill(team);
  await form.getByLabel('Role').selectOption('operator');
  await form.getByLabel('Where').selectOption('default/prod-weu');
  await form.getByRole('button', { name: 'Add binding' }).click();
  await shell.waitUntilInteractive();
  const row = all.getByRole('row').filter({ hasText: `group ${team}` });
  await expect(row).toContainText('operator');
  await expect(row).toContainText('cluster default/prod-weu');

  // The simulator: operator on prod-weu only.
  const sim = shell.main.getByRole('form', { name: 'What can this group do?' });
  await sim.getByLabel('Group or user').fill(team);
  await sim.getByRole('button', { name: 'Show access' }).click();
  await shell.waitUntilInteractive();
  const answer = shell.main.getByRole('table', { name: 'Simulated access' });
  await expect(answer.getByRole('row').filter({ hasText: 'cluster default/prod-weu' })).toContainText('scale-pool');
  await expect(answer.getByRole('row').filter({ hasText: 'cluster default/staging-eus' })).toContainText('nothing');
  await expect(answer.getByRole('row').filter({ hasText: 'portal-wide' })).toContainText('none');

  await row.getByRole('button', { name: `Remove group ${team}` }).click();
  await shell.waitUntilInteractive();
  await expect(all).not.toContainText(team);

  await shell.goto('/activity');
  await expect(shell.main.getByRole('row').filter({ hasText: 'revoke-role' }).first()).toContainText('cluster/default/prod-weu');
  await expect(shell.main.getByRole('row').filter({ hasText: 'grant-role' }).first()).toContainText('accepted');

  // The log says what changed for whom, and finds the changes by their subject.
  await shell.goto(`/activity?actor=${team}`);
  const rows = shell.main.getByRole('table', { name: 'Activity' }).getByRole('row');
  const granted = rows.filter({ hasText: `granted operator to group ${team}, on default/prod-weu` });
  const removed = rows.filter({ hasText: `removed operator of default/prod-weu from group ${team}` });
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
  const shell = await signInAs(page, 'Cora Cluster-Admin');
  await shell.goto('/access');
  const add = shell.main.getByRole('button', { name: 'Add a role binding' });
  await expect(add).toBeDisabled();
  await expect(add).toHaveAttribute('title', 'Needs the admin role');
  await expect(shell.main.getByRole('table', { name: 'All role bindings' })).toHaveCount(0);
  // The server is the guard: a direct call is refused too.
  const res = await page.request.post('/api/access/bindings/add', {
    form: { kind: 'user', subject: 'dev-cluster-admin', role: 'admin', cluster: '' },
    headers: { accept: 'application/json' },
  });
  expect(res.status()).toBe(403);
});
