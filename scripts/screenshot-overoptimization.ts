// README screenshot of Compare's reward-vs-gold panel on a project that `rlhf-lab demo
// --overoptimization --out DIR` wrote: `npx tsx scripts/screenshot-overoptimization.ts DIR/demo.rlhf`.
// Judges the β = 0 run's checkpoints from the panel's button, then saves
// screenshots/demo-overoptimization.png (1280×800) with the over-optimisation chart in view.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOveroptimization } from '../src-main/demo/overoptimization.js';
import { Project } from '../src-main/store/project.js';
import { startE2E } from '../tests/e2e/harness.js';

const source = process.argv[2];
if (!source) throw new Error('usage: screenshot-overoptimization.ts PROJECT');
const e2e = await startE2E({ project: 'none', viewport: { width: 1280, height: 800 } });
try {
  const path = join(e2e.dir, 'demo.rlhf');
  copyFileSync(source, path);
  const p = Project.open(path);
  const zero = readOveroptimization(p)?.curves.find((c) => c.kl_coef === 0);
  p.close();
  if (!zero) throw new Error(`${source} has no over-optimisation result: run rlhf-lab demo --overoptimization first`);
  e2e.server.services.openProject(path);
  const { page } = e2e;
  await page.reload();
  await page.keyboard.press('Control+4');
  const panel = page.getByTestId('reward-vs-gold');
  await panel.locator('summary').click();
  await panel.getByLabel('PPO run').selectOption(String(zero.run));
  await panel.getByTestId('judge-checkpoints').click();
  await panel.getByTestId('checkpoint-judges').waitFor({ timeout: 600_000 });
  await panel.getByTestId('checkpoint-judges').evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await e2e.screenshot('demo-reward-vs-gold');
  await panel.getByTestId('overoptimization-chart').scrollIntoViewIfNeeded();
  await e2e.screenshot('demo-overoptimization');
} finally {
  await e2e.close();
}
