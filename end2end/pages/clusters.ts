// Page objects for the fleet (/clusters) and a cluster's pages: tabs, tables, the pod log.
import { expect, type Locator } from '@playwright/test';
import { Shell } from './shell';

export const TABS = ['Overview', 'Node pools', 'Nodes', 'Pods', 'Events'] as const;
export type Tab = (typeof TABS)[number];

export class FleetPage {
  readonly filters: Locator;
  readonly table: Locator;
  readonly counts: Locator;
  readonly summary: Locator;

  constructor(readonly shell: Shell) {
    const main = shell.main;
    this.filters = main.getByRole('search', { name: 'Filter clusters' });
    this.table = main.getByRole('table', { name: 'Clusters' });
    this.counts = main.getByRole('navigation', { name: 'Clusters by health' });
    this.summary = main.locator('.table-summary');
  }

  async open(query = '') {
    await this.shell.goto(query ? `/clusters?${query}` : '/clusters');
  }

  /** The row of the cluster `name`. */
  row(name: string): Locator {
    return this.table.getByRole('row').filter({ has: this.shell.page.getByRole('link', { name, exact: true }) });
  }

  /** Names of the clusters listed, in order. */
  async names(): Promise<string[]> {
    return this.table.locator('tbody a.cluster-link').allTextContents();
  }

  /** Reloads until every named cluster shows `health` (the demo fleet needs a few seconds). */
  async waitFor(names: string[], health: string, timeout = 60_000) {
    await expect(async () => {
      await this.shell.page.reload();
      for (const name of names) await expect(this.row(name)).toContainText(health, { timeout: 500 });
    }).toPass({ timeout });
    await this.shell.waitUntilInteractive();
  }

  async search(text: string) {
    await this.filters.getByLabel('Search clusters').fill(text);
    await this.filters.getByRole('button', { name: 'Filter' }).click();
  }

  async sortBy(column: string) {
    await this.table.getByRole('columnheader', { name: column }).getByRole('link').click();
  }
}

export class ClusterView {
  readonly tabs: Locator;

  constructor(readonly shell: Shell) {
    this.tabs = shell.main.getByRole('navigation', { name: 'Cluster sections' });
  }

  tab(name: Tab): Locator {
    return this.tabs.getByRole('link', { name, exact: true });
  }

  table(label: string): Locator {
    return this.shell.main.getByRole('table', { name: label, exact: true });
  }

  /** The log's lines. */
  logLines(): Locator {
    return this.shell.main.getByRole('log', { name: 'Log lines' }).locator('.line');
  }
}
