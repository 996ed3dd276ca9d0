// A cluster's tags, with JavaScript on and off: an administrator edits them on their own page (a
// bad tag is a field message and changes nothing), a change made meanwhile by someone else is not
// overwritten, and a viewer is offered no "Edit tags".
import { expect, test } from '@playwright/test';
import { Kubesim } from '../pages/kubesim';
import { DevSignIn } from '../pages/signin';

const CAPI = '/apis/cluster.x-k8s.io/v1beta2/namespaces/default/clusters';

test('an administrator edits the tags of a cluster', async ({ page, browser }, info) => {
  test.setTimeout(60_000);
  // A cluster of this test's own (the demo clusters' tags are other tests' selectors).
  const kubesim = Kubesim.ofPortal();
  const name = `tags-${info.project.name}-000`;
  await kubesim.createPausedClusters(`tags-${info.project.name}`, 1);
  await kubesim.call('PATCH', `${CAPI}/${name}`,
    { metadata: { annotations: { 'portolan.dev/team': 'before', 'portolan.dev/tags': null } } },
    'application/merge-patch+json');

  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  const overview = `/clusters/default/${name}`;
  await shell.goto(overview);
  const facts = shell.main.locator('dl[aria-label="Cluster"]');
  await expect(facts).toContainText('team=before');
  await shell.main.getByRole('link', { name: 'Edit tags' }).click();
  await shell.waitUntilInteractive();
  const form = shell.main.getByRole('form', { name: 'Tags' });
  const field = form.getByLabel('Tags', { exact: true });
  await expect(field).toHaveValue('team=before');

  await field.fill('team=payments\ncost-center=<b>42</b>');
  await form.getByRole('button', { name: 'Save tags' }).click();
  await expect(shell.main.getByRole('alert')).toContainText('the value of "cost-center" has "<" or ">": markup is not a tag value');

  await shell.goto(`${overview}/tags`);
  await form.getByLabel('Tags', { exact: true }).fill('team=payments\nexample.com/cost-center=42');
  await form.getByRole('button', { name: 'Save tags' }).click();
  await expect(page).toHaveURL(new RegExp(`${overview}$`));
  await shell.waitUntilInteractive();
  await expect(facts).toContainText('example.com/cost-center=42, team=payments');

  // Someone changes them while the form is open: saving says so and keeps their change.
  await shell.goto(`${overview}/tags`);
  await kubesim.call('PATCH', `${CAPI}/${name}`,
    { metadata: { annotations: { 'portolan.dev/tags': '{"team":"billing"}' } } },
    'application/merge-patch+json');
  await form.getByLabel('Tags', { exact: true }).fill('team=mine');
  await form.getByRole('button', { name: 'Save tags' }).click();
  const alert = shell.main.getByRole('alert');
  await expect(alert).toContainText('tags changed since you opened this: review and save again');
  await expect(alert).toContainText('They are now: team=billing');
  await shell.goto(overview);
  await expect(facts).toContainText('team=billing');

  // A viewer sees the tags and no way to change them.
  const other = await browser.newContext({ javaScriptEnabled: info.project.use.javaScriptEnabled });
  const viewer = await new DevSignIn(await other.newPage()).signInAs('Vera Viewer');
  await viewer.goto(overview);
  await expect(viewer.main.locator('dl[aria-label="Cluster"]')).toContainText('team=billing');
  await expect(viewer.main.getByRole('link', { name: 'Edit tags' })).toHaveCount(0);
  await other.close();
});
