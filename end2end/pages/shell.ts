// Page object for the portal frame: top bar, navigation, breadcrumb, theme menu, main area.
import { expect, test, type Locator, type Page } from '@playwright/test';

export const SECTIONS = ['Clusters', 'Operations', 'Dashboards', 'Access', 'Activity'] as const;
export type Section = (typeof SECTIONS)[number];
export type Theme = 'System' | 'Light' | 'Dark';

export class Shell {
  readonly topBar: Locator;
  readonly nav: Locator;
  readonly breadcrumb: Locator;
  readonly main: Locator;
  readonly heading: Locator;
  readonly userArea: Locator;

  /** What the browser reported going wrong, to explain a page that never hydrates. */
  readonly problems: string[] = [];

  constructor(readonly page: Page) {
    page.on('pageerror', (e) => this.problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.problems.push(`console: ${m.text()} (${m.location().url})`);
    });
    page.on('requestfailed', (r) => this.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', async (r) => {
      if (r.request().resourceType() !== 'document' || r.status() !== 200) return;
      // Only the portal's own pages carry a CSP; each must have a nonce for its inline scripts.
      // A page closed while its last document arrives (the test is over) has no headers to read.
      const headers = await r.allHeaders().catch(() => undefined);
      if (headers === undefined) return;
      const csp = headers['content-security-policy'];
      if (csp !== undefined && !csp.includes("'nonce-")) this.problems.push(`document without a CSP nonce: ${r.status()} ${r.url()} ${JSON.stringify(headers)}`);
    });
    this.topBar = page.locator('header.topbar');
    this.nav = page.getByRole('navigation', { name: 'Main' });
    this.breadcrumb = page.getByRole('navigation', { name: 'Breadcrumb' });
    this.main = page.locator('main#main');
    this.heading = this.main.getByRole('heading', { level: 1 });
    this.userArea = page.getByLabel('Signed-in user');
  }

  /** Opens `path`; with JavaScript on, waits until the page has hydrated. */
  async goto(path: string) {
    const response = await this.page.goto(path);
    await this.waitUntilInteractive();
    return response;
  }

  async waitUntilInteractive() {
    if (test.info().project.use.javaScriptEnabled !== false) {
      await expect(
        this.page.locator('body'),
        `the page hydrates (browser problems so far: ${JSON.stringify(this.problems.slice(-6))})`,
      ).toHaveAttribute('data-hydrated', 'true');
    }
  }

  navLink(section: Section): Locator {
    return this.nav.getByRole('link', { name: section, exact: true });
  }

  themeButton(theme: Theme): Locator {
    return this.page.getByRole('group', { name: 'Theme' }).getByRole('button', { name: theme, exact: true });
  }

  async chooseTheme(theme: Theme) {
    await this.themeButton(theme).click();
    await expect(this.themeButton(theme)).toHaveAttribute('aria-pressed', 'true');
  }

  /** The value of <html data-theme>. */
  documentTheme(): Promise<string | null> {
    return this.page.locator('html').getAttribute('data-theme');
  }

  /** The page's resolved background colour, to prove the theme really changes what is drawn. */
  background(): Promise<string> {
    return this.page.locator('body').evaluate((el) => getComputedStyle(el).backgroundColor);
  }
}
