// Sign-in when the identity provider misbehaves: rotated keys, an outage, sessions that expire.
// These tests change the shared test IdP, so they run one at a time, in the `js` project only.
import { expect, test } from '@playwright/test';
import { OIDC, control, enterCredentials, portalUrl, signIn } from '../pages/idp';
import { Shell } from '../pages/shell';

const base = portalUrl(OIDC.chaosPortal);
test.use({ baseURL: base });
test.describe.configure({ mode: 'serial' });

test.afterEach(async ({ page }) => {
  await control(page, OIDC.chaosIdp, 'up');
});

test('keys rotated in the middle of a sign-in are fetched again', async ({ page }) => {
  const shell = new Shell(page);
  await page.goto(`${base}/auth/login`);
  // The portal read the old key at the start; the ID token will be signed with a new one.
  await control(page, OIDC.chaosIdp, 'rotate');
  const callback = page.waitForResponse((r) => r.url().startsWith(`${base}/auth/callback`));
  await enterCredentials(page, 'alice');
  const answer = await callback;
  // On failure, say which step the portal reported (its page names it), not only the status.
  expect(answer.status(), answer.status() === 303 ? '' : await answer.text()).toBe(303);
  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Alice Admin');
});

test('when the provider is down, sign-in says which step failed and signed-in people keep working', async ({
  page,
  browser,
}) => {
  const shell = new Shell(page);
  await signIn(page, base, 'alice');
  await control(page, OIDC.chaosIdp, 'down');

  const stranger = await browser.newPage();
  const res = await stranger.goto(`${base}/auth/login`);
  expect(res?.status()).toBe(502);
  await expect(stranger.getByText('Step 1 of 4: contacting the identity provider')).toBeVisible();
  await expect(stranger.getByRole('alert')).toContainText("the identity provider's configuration could not be read");
  // The provider's address and the error chain stay in the server log, under the request id shown.
  await expect(stranger.locator('main')).not.toContainText(`127.0.0.1:${OIDC.chaosIdp}`);
  const requestId = res?.headers()['x-request-id'] ?? '';
  expect(requestId).not.toBe('');
  await expect(stranger.locator('.request-id code')).toHaveText(requestId);
  await stranger.close();

  await shell.goto('/activity');
  await expect(shell.userArea).toContainText('Alice Admin');
  await expect(shell.main.getByRole('row').filter({ hasText: 'sign-in' }).filter({ hasText: 'failed' }).first()).toBeVisible();
});

test('a session without requests for longer than the idle limit ends', async ({ page }) => {
  const shell = new Shell(page);
  await signIn(page, base, 'alice');
  expect((await page.request.get(`${base}/auth/me`)).status()).toBe(200);
  // This portal runs with --session-idle 10s.
  await page.waitForTimeout(11_000);
  expect((await page.request.get(`${base}/auth/me`)).status()).toBe(401);
  await shell.goto('/');
  await expect(shell.userArea).toContainText('Not signed in');
});
