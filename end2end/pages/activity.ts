// Page object for the Activity page: the filter form, the table and its exports.
import { type Locator } from '@playwright/test';
import { Shell } from './shell';

export class ActivityPage {
  readonly filters: Locator;
  readonly table: Locator;
  readonly rows: Locator;
  readonly csv: Locator;

  constructor(readonly shell: Shell) {
    const main = shell.main;
    this.filters = main.getByRole('form', { name: 'Filter activity' });
    this.table = main.getByRole('table', { name: 'Activity' });
    this.rows = this.table.getByRole('row');
    this.csv = main.getByRole('link', { name: 'CSV' });
  }

  /** Opens /activity, with `query` (e.g. `actor=vera&result=denied`) if given. */
  async open(query = '') {
    await this.shell.goto(query ? `/activity?${query}` : '/activity');
  }

  /** Fills the filter form (only what is given) and applies it. */
  async filter(by: { who?: string; result?: 'accepted' | 'denied' | 'failed' }) {
    if (by.who !== undefined) await this.filters.getByLabel('Who').fill(by.who);
    if (by.result !== undefined) await this.filters.getByLabel('Result').selectOption(by.result);
    await this.filters.getByRole('button', { name: 'Filter' }).click();
  }

  /** Rows that mention `text`. */
  rowsWith(text: string): Locator {
    return this.rows.filter({ hasText: text });
  }
}
