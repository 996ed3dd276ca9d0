// Page object for the portal frame: top bar, navigation, breadcrumb, theme menu, main area.
import { expect, test, type Locator, type Page } from '@playwright/test';

export const SECTIONS = ['Clusters', 'Dashboards', 'Access', 'Activity'] as const;
export type Section = (typeof SECTIONS)[number];
export type Theme = 'System' | 'Light' | 'Dark';

export class Shell {
  readonly topBar: Locator;
  readonly nav: Locator;
  readonly breadcrumb: Locator;
  readonly main: Locator;
  readonly heading: Locator;
  readonly userArea: Locator;

  constructor(readonly page: Page) {
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
      await expect(this.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
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
