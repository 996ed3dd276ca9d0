// Charts on a cluster's pages, with JavaScript on and off: rendered at load with their numbers as a
// table, time ranges in the address, SVG and PNG downloads made on the server, and (with
// JavaScript) the chart following new samples live.
import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import { Charts, RANGES } from '../pages/charts';
import { DevSignIn } from '../pages/signin';

const OVERVIEW = '/clusters/default/prod-weu';

test('a cluster shows CPU and memory with time ranges in the address and a table', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  await shell.goto(`${OVERVIEW}?range=15m`);
  const charts = new Charts(page);
  await expect(charts.chart('CPU of cluster default/prod-weu, last 15 m')).toBeVisible();
  await expect(charts.chart('Memory of cluster default/prod-weu, last 15 m')).toBeVisible();
  for (const r of RANGES) await expect(charts.ranges.getByRole('link', { name: r, exact: true })).toBeVisible();
  await expect(charts.ranges.getByRole('link', { name: '15 m' })).toHaveAttribute('aria-current', 'page');

  await charts.ranges.getByRole('link', { name: '6 h', exact: true }).click();
  await expect(page).toHaveURL(/[?&]range=6h/);
  await shell.waitUntilInteractive();
  await expect(charts.chart('CPU of cluster default/prod-weu, last 6 h')).toBeVisible();
  await expect(charts.ranges.getByRole('link', { name: '6 h' })).toHaveAttribute('aria-current', 'page');

  // The numbers behind the chart, in the axis' unit.
  const figure = charts.figure('CPU of cluster');
  await figure.getByText('Show as table').click();
  const table = figure.getByRole('table');
  await expect(table.getByRole('columnheader')).toHaveText(['Time (UTC)', 'used', 'allocatable']);
  await expect(table.getByRole('row').nth(1)).toContainText(/cores|millicores/);

  // An unknown range is refused with the allowed values.
  await shell.goto(`${OVERVIEW}?range=2h`);
  await expect(shell.main.getByRole('alert')).toContainText('use one of 15m, 1h, 6h, 24h, 7d');
});

test('charts download as SVG and as PNG', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  await shell.goto(`${OVERVIEW}/pods`);
  const charts = new Charts(page);
  const figure = charts.figure('CPU: top pods of cluster default/prod-weu');
  await expect(figure).toBeVisible();
  const [svg] = await Promise.all([page.waitForEvent('download'), figure.getByRole('link', { name: 'Download SVG' }).click()]);
  expect(svg.suggestedFilename()).toBe('prod-weu-top-cpu-1h.svg');
  const text = fs.readFileSync(await svg.path(), 'utf8');
  expect(text).toMatch(/^<svg role="img" aria-label="CPU: top pods of cluster default\/prod-weu/);
  expect(text).toContain('xmlns="http://www.w3.org/2000/svg"');
  const [png] = await Promise.all([page.waitForEvent('download'), figure.getByRole('link', { name: 'Download PNG' }).click()]);
  expect(png.suggestedFilename()).toBe('prod-weu-top-cpu-1h.png');
  const bytes = fs.readFileSync(await png.path());
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  // Width 1280, height 520 (twice the SVG), in the IHDR chunk.
  expect(bytes.readUInt32BE(16)).toBe(1280);
  expect(bytes.readUInt32BE(20)).toBe(520);
});

test('node and pod pages chart their own CPU and memory', async ({ page }) => {
  const shell = await new DevSignIn(page).signInAs('Vera Viewer');
  await shell.goto(`${OVERVIEW}/nodes`);
  const node = shell.main.getByRole('table', { name: 'Nodes' }).getByRole('link').first();
  const nodeName = (await node.textContent()) ?? '';
  await node.click();
  await shell.waitUntilInteractive();
  const charts = new Charts(page);
  await expect(charts.chart(`CPU of node ${nodeName}, last 1 h`)).toBeVisible();
  await expect(charts.chart(`Memory: top pods of node ${nodeName}`)).toBeVisible();
  const pod = shell.main.getByRole('table', { name: 'Pods' }).getByRole('link').first();
  await pod.click();
  await shell.waitUntilInteractive();
  await expect(charts.chart('CPU of pod ')).toBeVisible();
  await expect(charts.chart('Memory of pod ')).toHaveAccessibleName(/by container, last 1 h$/);
});

test('without JavaScript the chart is the one rendered at load; with it, it follows new samples', async ({ page }, info) => {
  const shell = await new DevSignIn(page).signInAs('Ada Admin');
  // staging-eus has no autoscaled pool: prod-weu's is scaled by kubesim now and then, and an
  // Overview of a cluster that is Scaling reloads itself (a new render, not the chart moving).
  await shell.goto('/clusters/default/staging-eus?range=15m');
  const charts = new Charts(page);
  const name = 'CPU of cluster default/staging-eus, last 15 m';
  const first = await charts.svgOf(name);
  if (info.project.use.javaScriptEnabled === false) {
    await expect(charts.status(name)).toHaveText('Rendered at load');
    await page.waitForTimeout(3_000);
    expect(await charts.svgOf(name)).toBe(first);
  } else {
    await expect(charts.status(name)).toHaveText('Live');
    // The e2e portal polls every second: the chart is redrawn in place within a few ticks.
    await expect.poll(() => charts.svgOf(name), { timeout: 20_000 }).not.toBe(first);
    await expect(charts.status(name)).toHaveText('Live');
  }
});
