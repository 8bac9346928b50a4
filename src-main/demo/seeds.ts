// `rlhf-lab demo --seeds 4,5,6`: the demo once per seed, one after another, each in its own
// directory (DIR/seed-S under --out when there are several), with its report page.
import { join } from 'node:path';
import { methodRows, type MethodRow } from './method-table.js';
import { runDemo, type DemoOptions, type DemoReport } from './pipeline.js';
import { writeReportPage } from './report-page.js';

export interface SeedRun {
  report: DemoReport;
  /** report.md of this seed, when an output directory was given. */
  page: string | null;
}

export async function runDemoSeeds(
  seeds: number[],
  o: Omit<DemoOptions, 'seed' | 'progress' | 'log'> & {
    progress?(seed: number, stage: string, done: number, total: number, message?: string): void;
    log?(seed: number, message: string): void;
  },
): Promise<{ runs: SeedRun[]; table: MethodRow[] }> {
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    const out = o.out && seeds.length > 1 ? join(o.out, `seed-${seed}`) : o.out;
    const report = await runDemo({
      ...o,
      seed,
      out,
      progress: (stage, done, total, message) => o.progress?.(seed, stage, done, total, message),
      log: (m) => o.log?.(seed, m),
    });
    runs.push({ report, page: out ? writeReportPage(out, report) : null });
  }
  return { runs, table: runs.flatMap((r) => methodRows(r.report)) };
}
