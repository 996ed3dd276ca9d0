// Page object for the development sign-in (/auth/dev): pick a seeded identity.
import { type Page } from '@playwright/test';
import { Shell } from './shell';

export const IDENTITIES = ['Ada Admin', 'Otto Operator', 'Vera Viewer', 'Cora Cluster-Admin'] as const;
export type Identity = (typeof IDENTITIES)[number];

export class DevSignIn {
  constructor(readonly page: Page) {}

  /** Opens the development sign-in page. */
  async open() {
    await this.page.goto('/auth/dev');
  }

  /** Picks `identity` on the sign-in page that is open now (after a redirect to it, say). */
  async choose(identity: Identity) {
    await this.page.getByRole('button', { name: new RegExp(identity) }).click();
  }

  /** The same on the portal at `base` (a test's own portal). */
  async signInAsAt(base: string, identity: Identity): Promise<Shell> {
    const shell = new Shell(this.page);
    await this.page.goto(`${base}/auth/dev`);
    await this.choose(identity);
    await shell.waitUntilInteractive();
    return shell;
  }

  /** Opens the sign-in page, signs in as `identity` and returns the portal's frame, hydrated. */
  async signInAs(identity: Identity): Promise<Shell> {
    const shell = new Shell(this.page);
    await this.open();
    await this.choose(identity);
    await shell.waitUntilInteractive();
    return shell;
  }
}
