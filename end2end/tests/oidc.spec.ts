// Sign-in through a real OpenID Connect provider (npm oidc-provider): groups become roles, sessions
// are safe, and every kind of broken or replayed sign-in response is refused.
import { expect, test } from '@playwright/test';
import { OIDC, portalUrl, signIn } from '../pages/idp';
import { Shell } from '../pages/shell';

const base = portalUrl(OIDC.portal);
test.use({ baseURL: base });

test('signing in through the identity provider maps IdP groups (prefixed) to roles', async ({ page, context }) => {
  const shell = new Shell(page);
  await shell.goto('/');
  await expect(shell.userArea).toContainText('Not signed in');

  const callback = await signIn(page, base, 'alice');
  expect(callback.status()).toBe(303);
  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Alice Admin');

  // The session cookie is HttpOnly and SameSite=Lax; not Secure, because this is plain-HTTP loopback.
  const cookie = (await context.cookies(base)).find((c) => c.name === 'portolan_session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });

  await shell.goto('/access');
  await expect(shell.main.getByText('oidc:idp-admins').first()).toBeVisible();
  await expect(shell.main.getByText('oidc:staff').first()).toBeVisible();
  const bindings = shell.main.getByRole('table', { name: 'Role bindings that apply to you' });
  await expect(bindings).toContainText('group oidc:idp-admins');
  await expect(bindings).toContainText('admin');

  await shell.goto('/activity');
  const row = shell.main.getByRole('row').filter({ hasText: 'Alice Admin' }).first();
  await expect(row).toContainText('sign-in');
  await expect(row).toContainText('accepted');
});

test('starting a sign-in stores nothing on the server, and signing in issues a new session id', async ({ page, context }) => {
  // State, nonce and PKCE verifier wait in a sealed cookie for the callback, not in a session.
  await page.goto(`${base}/auth/login`);
  // (The cookie is sent to /auth paths only.)
  const started = await context.cookies(`${base}/auth/callback`);
  expect(started.find((c) => c.name === 'portolan_session')).toBeUndefined();
  const pending = started.find((c) => c.name === 'portolan_signin');
  expect(pending?.httpOnly).toBe(true);
  expect(pending?.path).toBe('/auth');
  expect(pending?.sameSite).toBe('Lax');
  await page.goBack();
  // A session id planted beforehand (fixation) is never the one that ends up signed in.
  const planted = 'planted-by-somebody-else';
  await context.addCookies([{ name: 'portolan_session', value: planted, url: base }]);
  await signIn(page, base, 'victor');
  await expect(new Shell(page).userArea).toContainText('Victor Viewer');
  const after = (await context.cookies(base)).find((c) => c.name === 'portolan_session')?.value;
  expect(after).toBeTruthy();
  expect(after).not.toBe(planted);
});

test('groups the provider only gives through UserInfo are read from there', async ({ page }) => {
  const shell = new Shell(page);
  await signIn(page, base, 'ursula');
  await shell.goto('/access');
  await expect(shell.main.getByRole('table', { name: 'Role bindings that apply to you' })).toContainText(
    'group oidc:idp-admins',
  );
});

test('someone without a role is signed in but sees no data', async ({ page }) => {
  const shell = new Shell(page);
  await signIn(page, base, 'nadia');
  await shell.goto('/activity');
  await expect(shell.userArea).toContainText('Nadia Nobody');
  await expect(shell.main.getByRole('heading', { name: 'You do not have access' })).toBeVisible();
});

test('markup in a name or a group is shown as text, never run', async ({ page }) => {
  const shell = new Shell(page);
  await signIn(page, base, 'mallory');
  await shell.goto('/access');
  await expect(shell.userArea).toContainText('Mallory <b>Markup</b>');
  await expect(shell.main.getByText('oidc:<img src=x onerror="window.pwned=1">').first()).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  expect(await page.locator('img[src=x]').count()).toBe(0);
});

for (const broken of ['tampered', 'expired', 'wrong-audience', 'wrong-issuer', 'wrong-nonce']) {
  test(`a ${broken} ID token is refused`, async ({ page }) => {
    const callback = await signIn(page, base, broken);
    expect(callback.status()).toBe(401);
    await expect(page.getByRole('heading', { name: 'Sign-in failed' })).toBeVisible();
    await expect(page.getByText('Step 4 of 4')).toBeVisible();
    await expect(page.getByRole('alert')).toContainText('the ID token was rejected');
    expect((await page.request.get(`${base}/auth/me`)).status()).toBe(401);
  });
}

test('a replayed sign-in response is refused', async ({ page }) => {
  const shell = new Shell(page);
  const callback = await signIn(page, base, 'victor');
  const used = callback.url();
  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Victor Viewer');
  await page.context().clearCookies({ name: 'portolan_session' });

  const replay = await page.goto(used);
  expect(replay?.status()).toBe(400);
  await expect(page.getByRole('alert')).toContainText('does not belong to a sign-in started in this browser');
  expect((await page.request.get(`${base}/auth/me`)).status()).toBe(401);
});

test('forged, missing and refused callback parameters get a clear 400', async ({ request }) => {
  const cases: [string, string][] = [
    ['/auth/callback', 'no `state` parameter'],
    ['/auth/callback?state=abc', 'no `code` parameter'],
    ['/auth/callback?code=forged&state=forged', 'does not belong to a sign-in started in this browser'],
    ['/auth/callback?error=access_denied&error_description=End-User%20aborted', 'the identity provider refused the sign-in'],
    [`/auth/callback?code=x&state=y&iss=${encodeURIComponent('https://evil.example')}`, 'did not come from the configured identity provider'],
  ];
  for (const [url, message] of cases) {
    const res = await request.get(url);
    expect(res.status(), url).toBe(400);
    const text = await res.text();
    expect(text, url).toContain(message);
    // What the response carried is never shown back (it could be anyone's text).
    expect(text, url).not.toContain('End-User aborted');
    expect(text, url).not.toContain('evil.example');
    expect(text, url).toContain(res.headers()['x-request-id']);
  }
  expect((await request.get('/auth/me')).status()).toBe(401);
  // Forged responses store nothing: not even an empty session.
  const cookies = (await request.storageState()).cookies.filter((c) => c.name === 'portolan_session');
  expect(cookies).toEqual([]);
});

test('sign-out ends the portal session and the identity provider session', async ({ page }) => {
  const shell = new Shell(page);
  await signIn(page, base, 'oscar');
  await shell.waitUntilInteractive();
  await shell.userArea.getByRole('button', { name: 'Sign out' }).click();

  // RP-initiated logout: the provider asks, then sends the browser back to the portal.
  await expect(page.getByRole('heading', { name: 'Sign out of the test IdP' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out of the IdP' }).click();
  await expect(page).toHaveURL(`${base}/`);
  await shell.waitUntilInteractive();
  await expect(shell.userArea).toContainText('Not signed in');
  expect((await page.request.get(`${base}/auth/me`)).status()).toBe(401);

  // The provider forgot Oscar too: signing in asks for the password again.
  await page.goto(`${base}/auth/login`);
  await expect(page.getByRole('heading', { name: 'Test IdP sign-in' })).toBeVisible();
});
