// Playwright harness: starts the already-built `portolan` binary on fresh SQLite files — once with the
// development sign-in, and twice behind the test identity provider (end2end/idp, npm oidc-provider) —
// and runs every test twice, with JavaScript enabled (hydrated) and disabled (server-rendered only).
import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OIDC } from './pages/idp';
import { E2E_PORT, kubesimKubeconfig } from './pages/kubesim';

const port = E2E_PORT;
const baseURL = `http://127.0.0.1:${port}`;
const repo = path.resolve(__dirname, '..');
const bin = process.env.PORTOLAN_BIN ?? path.join(repo, 'target/debug/portolan');
const siteRoot = process.env.PORTOLAN_SITE_ROOT ?? path.join(repo, 'target/site');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portolan-e2e-'));
const secretFile = path.join(dataDir, 'client-secret');
const clientSecret = `e2e-${Date.now()}-${Math.random().toString(36).slice(2)}`;
fs.writeFileSync(secretFile, clientSecret, { mode: 0o600 });


function portal(port: number, args: string) {
  return {
    command: `"${bin}" serve --listen 127.0.0.1:${port} --database-url "sqlite://${dataDir}/e2e-${port}.db" --site-root "${siteRoot}" ${args}`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    env: { PORTOLAN_LOG: process.env.PORTOLAN_LOG ?? 'warn' },
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  };
}

function idp(port: number, portalPort: number) {
  return {
    command: `node idp/server.mjs`,
    url: `http://127.0.0.1:${port}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    env: { IDP_PORT: String(port), PORTAL_URL: `http://127.0.0.1:${portalPort}`, IDP_CLIENT_SECRET: clientSecret },
    timeout: 30_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  };
}

function oidcPortal(port: number, idpPort: number, extra: string) {
  return portal(
    port,
    `--oidc-issuer http://127.0.0.1:${idpPort} --oidc-client-id portolan --oidc-client-secret-file "${secretFile}" ${extra}`,
  );
}

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
    // The tests that disturb the shared test IdP run once, with JavaScript.
    // Live charts across a restart are JavaScript's alone, and axe runs as a script in the page.
    { name: 'nojs', use: { javaScriptEnabled: false }, testIgnore: /oidc-chaos|charts-live|a11y/ },
  ],
  webServer: [
    // The demo fleet runs 30 times faster than real time, so that it is up within seconds, and
    // its metrics are polled every second, so that live charts move within a test; its
    // kubeconfig lets tests act on it as kubectl would (pages/kubesim.ts).
    portal(port, `--kubesim-speed 30 --metrics-interval 1s --kubesim-kubeconfig "${kubesimKubeconfig(port)}"`),
    idp(OIDC.idp, OIDC.portal),
    oidcPortal(OIDC.portal, OIDC.idp, '--oidc-group-prefix oidc: --bootstrap-admin-group oidc:idp-admins'),
    // For the tests that rotate keys, stop the provider or wait for sessions to expire.
    idp(OIDC.chaosIdp, OIDC.chaosPortal),
    oidcPortal(OIDC.chaosPortal, OIDC.chaosIdp, '--bootstrap-admin-group idp-admins --session-idle 10s'),
  ],
});
