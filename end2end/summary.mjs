// Prints the one line CI reads, "N passed, N failed", summed over cargo test and Playwright.
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;

const cargoLog = path.join(dir, 'cargo.log');
if (fs.existsSync(cargoLog)) {
  const re = /^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/;
  for (const line of fs.readFileSync(cargoLog, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (m) {
      passed += Number(m[1]);
      failed += Number(m[2]);
      skipped += Number(m[3]);
    }
  }
}

// Rust tests that could not run here (a missing input) return early, which cargo counts as
// passed; they list themselves in skipped.txt, and are counted as skipped instead.
const skips = path.join(dir, 'skipped.txt');
if (fs.existsSync(skips)) {
  const lines = fs.readFileSync(skips, 'utf8').split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) console.log(`skipped: ${line}`);
  passed -= lines.length;
  skipped += lines.length;
}

const report = path.join(dir, 'playwright.json');
if (fs.existsSync(report)) {
  const { stats } = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed += stats.expected + stats.flaky;
  failed += stats.unexpected;
  skipped += stats.skipped;
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
