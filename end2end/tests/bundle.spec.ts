// The bundle a browser downloads (the release wasm after wasm-opt, its JS glue, the CSS) stays
// within budget, so growth is noticed the day it happens. `make e2e` builds it into
// PORTOLAN_RELEASE_SITE; the budget is 250 KB gzip with every headline page (150 KB today).
import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

const BUDGET_BYTES = 250 * 1024;

test('the shipped bundle stays within 250 KB gzip', async ({}, info) => {
  test.skip(info.project.name !== 'js', 'measured once, in the js project');
  const site = process.env.PORTOLAN_RELEASE_SITE ?? '';
  expect(site, 'make e2e builds the release bundle and sets PORTOLAN_RELEASE_SITE').not.toBe('');
  const sizes: Record<string, number> = {};
  for (const file of ['portolan_bg.wasm', 'portolan.js', 'portolan.css']) {
    sizes[file] = zlib.gzipSync(fs.readFileSync(path.join(site, 'pkg', file)), { level: 9 }).length;
  }
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  console.log(`shipped bundle, gzip -9: ${JSON.stringify(sizes)}, total ${total} bytes`);
  expect(total, JSON.stringify(sizes)).toBeLessThanOrEqual(BUDGET_BYTES);
});
