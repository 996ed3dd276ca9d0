// Sample → SVG in the DOM (run by end2end/bench.sh against a portal polling every second): opens a
// cluster's overview in Chromium, and for every live update of the CPU chart takes the time it
// reached the DOM minus the time its sample's poll began (both stamped on the chart by the
// LiveChart island: data-shown-ms and data-sample-ms). Prints p50, p99 and max.
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3190';
const seconds = Number(process.argv[3] ?? 60);
const browser = await chromium.launch({
  executablePath: process.env.PORTOLAN_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/auth/dev`);
  await page.getByRole('button', { name: /Vera Viewer/ }).click();
  await page.goto(`${base}/clusters/default/prod-weu?range=15m`);
  await page.waitForSelector('body[data-hydrated]');
  const body = page.locator('figure.chart .chart-body').first();
  await body.waitFor();
  await page.evaluate(() => {
    window.__ages = [];
    const el = document.querySelector('figure.chart .chart-body');
    new MutationObserver(() => {
      const sample = Number(el.getAttribute('data-sample-ms'));
      const shown = Number(el.getAttribute('data-shown-ms'));
      if (sample > 0 && shown > 0) window.__ages.push(shown - sample);
    }).observe(el, { attributes: true, attributeFilter: ['data-shown-ms'] });
  });
  await page.waitForTimeout(seconds * 1000);
  const ages = (await page.evaluate(() => window.__ages)).sort((a, b) => a - b);
  const pick = (p) => (ages.length ? Math.round(ages[Math.min(ages.length - 1, Math.round((ages.length - 1) * p))]) : NaN);
  console.log(`sample (poll start) → SVG in the DOM, ${ages.length} updates in ${seconds} s: p50 ${pick(0.5)} ms, p99 ${pick(0.99)} ms, max ${pick(1)} ms (goal: p99 <= 1000 ms)`);
} finally {
  await browser.close();
}
