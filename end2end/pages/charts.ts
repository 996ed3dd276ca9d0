// Page objects for charts (a cluster's CPU and memory, top pods) and a portal of a test's own.
import { expect, type Locator, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const RANGES = ['15 m', '1 h', '6 h', '24 h', '7 d'] as const;

/** The charts section of a page: range links and each chart with its status and downloads. */
export class Charts {
  readonly ranges: Locator;

  constructor(readonly page: Page) {
    this.ranges = page.getByRole('navigation', { name: 'Time range' }).first();
  }

  /** The chart (its SVG) whose accessible name starts with `name`. */
  chart(name: string): Locator {
    return this.page.getByRole('img', { name: new RegExp(`^${name}`) });
  }

  /** The figure holding that chart: its status, downloads and table. */
  figure(name: string): Locator {
    return this.page.locator('figure.chart').filter({ has: this.chart(name) });
  }

  status(name: string): Locator {
    return this.figure(name).getByRole('status');
  }

  async svgOf(name: string): Promise<string> {
    return this.chart(name).evaluate((e) => e.outerHTML);
  }
}

const repo = path.resolve(__dirname, '..', '..');

/** A portal process of the test's own (the shared ones cannot be restarted). */
export class OwnPortal {
  private child?: ChildProcess;
  readonly url: string;
  private readonly db: string;

  constructor(readonly port: number) {
    this.url = `http://127.0.0.1:${port}`;
    this.db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-own-')), 'p.db');
  }

  /** Starts it (the same database each time) and waits until it is ready. */
  async start() {
    const bin = process.env.PORTOLAN_BIN ?? path.join(repo, 'target/debug/portolan');
    const site = process.env.PORTOLAN_SITE_ROOT ?? path.join(repo, 'target/site');
    this.child = spawn(bin, ['serve', '--listen', `127.0.0.1:${this.port}`, '--database-url', `sqlite://${this.db}`,
      '--site-root', site, '--kubesim-speed', '30', '--metrics-interval', '1s'], { stdio: 'ignore', env: { ...process.env, PORTOLAN_LOG: 'warn' } });
    await expect(async () => {
      const r = await fetch(`${this.url}/readyz`);
      expect(r.status).toBe(200);
    }).toPass({ timeout: 30_000 });
  }

  /** Ends it at once, as a crash would. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}
