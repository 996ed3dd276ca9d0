// The test identity provider (end2end/idp/server.mjs): its ports, users and sign-in page.
import { expect, type Page } from '@playwright/test';

/** Ports of the portals signed in through an identity provider, and of their providers. */
export const OIDC = { portal: 3108, idp: 3109, chaosPortal: 3111, chaosIdp: 3110 } as const;

export const portalUrl = (port: number) => `http://127.0.0.1:${port}`;

/** Users of the test IdP and their passwords (see USERS in idp/server.mjs). */
export const PASSWORDS: Record<string, string> = {
  alice: 'alice-pw',
  oscar: 'oscar-pw',
  victor: 'victor-pw',
  nadia: 'nadia-pw',
  ursula: 'ursula-pw',
  mallory: 'mallory-pw',
  tampered: 'x',
  expired: 'x',
  'wrong-audience': 'x',
  'wrong-issuer': 'x',
  'wrong-nonce': 'x',
};

/** Fills the IdP's sign-in form, which the portal's /auth/login has led to. */
export async function enterCredentials(page: Page, user: string, password = PASSWORDS[user]) {
  await expect(page.getByRole('heading', { name: 'Test IdP sign-in' })).toBeVisible();
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs `user` in to the portal at `base` through the IdP; resolves with the callback's response. */
export async function signIn(page: Page, base: string, user: string) {
  await page.goto(`${base}/auth/login`);
  const callback = page.waitForResponse((r) => r.url().startsWith(`${base}/auth/callback`));
  await enterCredentials(page, user);
  return callback;
}

/** Calls one of the IdP's test controls: rotate (new signing key), down, up. */
export async function control(page: Page, idpPort: number, what: 'rotate' | 'down' | 'up') {
  const res = await page.request.post(`${portalUrl(idpPort)}/__test/${what}`);
  expect(res.status()).toBe(200);
}
