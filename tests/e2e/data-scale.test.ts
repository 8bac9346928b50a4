// 100,000 preference pairs imported through the page, then browsed: every page turn and search
// must answer well within a user's patience, because only one page ever leaves the database.
// It takes a minute or more of CPU, so it runs on request:
//   RLHF_LAB_SCALE=1 npx vitest run --project e2e tests/e2e/data-scale.test.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2E, type E2E } from './harness.js';

const PAIRS = 100_000;
/** A page turn or search slower than this feels broken. */
const RESPONSIVE_MS = 1000;

describe.runIf(process.env.RLHF_LAB_SCALE === '1')('Data view at 100k pairs', () => {
  let e2e: E2E;
  let file: string;
  beforeAll(async () => {
    e2e = await startE2E();
    file = join(e2e.dir, 'big.jsonl');
    const lines: string[] = [];
    for (let i = 1; i <= PAIRS; i++) {
      lines.push(
        JSON.stringify({
          prompt: `Question ${i}: how should I care for a plant of kind ${i % 997}?`,
          chosen: `Careful answer ${i}: water it when the soil is dry and give it light.`,
          rejected: `Careless answer ${i}: never water it.`,
        }),
      );
    }
    writeFileSync(file, lines.join('\n'));
  });
  afterAll(async () => {
    await e2e?.close();
  });

  const pagerText = () => e2e.page.locator('nav.pager .range').textContent();

  /** Milliseconds from an action until the pager shows `expected`. */
  async function timed(action: () => Promise<unknown>, expected: string): Promise<number> {
    const started = performance.now();
    await action();
    await e2e.page.locator('nav.pager .range', { hasText: expected }).waitFor();
    return performance.now() - started;
  }

  it('imports 100k pairs through the page', async () => {
    const { page } = e2e;
    await page.locator('input[type=file]').setInputFiles(file);
    const started = performance.now();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('progressbar', { name: /Importing big\.jsonl/ }).waitFor();
    await e2e.screenshot('data-import-progress');
    await page.getByText(`Imported ${PAIRS.toLocaleString('en-US')} records`).waitFor({ timeout: 280_000 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`import of ${PAIRS} pairs through the page: ${seconds.toFixed(1)} s`);
    await page.getByRole('tab', { name: /Preference pairs/ }).click();
    await expect.poll(pagerText).toBe(`1–50 of ${PAIRS.toLocaleString('en-US')}`);
  }, 300_000);

  it('pages and searches 100k pairs responsively', async () => {
    const { page } = e2e;
    const total = PAIRS.toLocaleString('en-US');
    const times = {
      next: await timed(() => page.getByRole('button', { name: 'Next ›' }).click(), `51–100 of ${total}`),
      last: await timed(() => page.getByRole('button', { name: 'Last page' }).click(), `99,951–100,000 of ${total}`),
      pageSize200: await timed(() => page.getByLabel('Rows per page').selectOption('200'), `99,801–100,000 of ${total}`),
      first: await timed(() => page.getByRole('button', { name: 'First page' }).click(), `1–200 of ${total}`),
      search: await timed(() => page.locator('input[type=search]').fill('Question 77777'), '1–1 of 1'),
    };
    console.log('browsing 100k pairs (ms, click → rows on screen):', JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)]))));
    // The search waits out a 200 ms typing debounce before it asks the server.
    for (const [action, ms] of Object.entries(times)) expect(ms, action).toBeLessThan(RESPONSIVE_MS + (action === 'search' ? 200 : 0));
    await e2e.screenshot('data-100k-pairs');
  });
});
