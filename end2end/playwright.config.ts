// Playwright harness: starts the already-built `portolan` binary on a fresh SQLite file and runs
// every test twice, with JavaScript enabled (hydrated) and disabled (server-rendered only).
import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const port = Number(process.env.PORTOLAN_E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
const repo = path.resolve(__dirname, '..');
const bin = process.env.PORTOLAN_BIN ?? path.join(repo, 'target/debug/portolan');
const siteRoot = process.env.PORTOLAN_SITE_ROOT ?? path.join(repo, 'target/site');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-e2e-'));

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [
    ['list'],
    ['json', { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? 'test-results/report.json' }],
  ],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.PORTOLAN_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [
    { name: 'js', use: { javaScriptEnabled: true } },
    { name: 'nojs', use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: `"${bin}" serve --listen 127.0.0.1:${port} --database-url "sqlite://${dataDir}/e2e.db" --site-root "${siteRoot}"`,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    env: { PORTOLAN_LOG: process.env.PORTOLAN_LOG ?? 'warn' },
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
