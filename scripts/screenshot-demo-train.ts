// README screenshots of the bundled demo project's PPO run in Train: the `lr` curve (warmup-free
// cosine decay over all 30 iterations) and the PPO run form with its early-stopping text:
// `npx tsx scripts/screenshot-demo-train.ts [PROJECT]` (default resources/demo/demo.rlhf).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PROJECT } from '../src-main/demo/project.js';
import { startE2E } from '../tests/e2e/harness.js';

const e2e = await startE2E({ project: 'none', viewport: { width: 1280, height: 800 } });
try {
  const path = join(e2e.dir, 'demo.rlhf');
  copyFileSync(process.argv[2] ?? DEMO_PROJECT, path);
  e2e.server.services.openProject(path);
  const { page } = e2e;
  await page.reload();
  await page.keyboard.press('Control+3');
  await page.getByRole('button', { name: /Demo PPO/ }).first().click();
  const lr = page.locator('figure[data-metric="lr"]');
  await lr.waitFor({ timeout: 30_000 });
  await lr.scrollIntoViewIfNeeded();
  await e2e.screenshot('demo-train-ppo-lr');
  await page.getByTestId('new-run').click();
  await page.getByTestId('stage').selectOption('ppo');
  await page.getByText('After each minibatch').scrollIntoViewIfNeeded();
  await e2e.screenshot('train-ppo-form-early-stopping');
} finally {
  await e2e.close();
}
