// Importing and browsing 100k preference pairs (issue 2: the import under 10 s, pages and
// searches under 100 ms). Prints wall and CPU time of the import and the median of 5 runs of each
// page and search, with the load average: on a shared machine the wall time measures the
// neighbours too. tests/main/data/import-perf.test.ts checks the same operations' results.
// Run: npx tsx bench/import-browse.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importData } from '../src-main/data/import.js';
import { Project } from '../src-main/store/project.js';

const N = 100_000;
const topics = ['physics', 'cooking', 'history', 'music', 'gardening', 'travel', 'finance', 'chess'];

/** Milliseconds of wall time and of this process's CPU time (user + system) spent in fn. */
function measure(fn: () => unknown): { wall: number; cpu: number } {
  const c = process.cpuUsage();
  const w = performance.now();
  fn();
  const wall = performance.now() - w;
  const d = process.cpuUsage(c);
  return { wall, cpu: (d.user + d.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'rlhf-import-browse-'));
try {
  const file = join(dir, 'prefs-100k.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    const t = topics[i % topics.length];
    lines.push(
      JSON.stringify({
        prompt: `Question ${i} about ${t}: how would you explain the idea to a curious friend?`,
        chosen: `A clear, friendly explanation of ${t} number ${i}, with one concrete example.`,
        rejected: `I don't know much about ${t}; look it up (${i}).`,
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const project = Project.open(join(dir, 'p.rlhf'), { create: true });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await importData(project, { name: file, path: file }, 'preferences');
  const importWall = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const importCpu = (c1.user + c1.system) / 1e6;

  const timings: Record<string, { wall: number; cpu: number }> = {};
  const time = (label: string, fn: () => unknown) => {
    const runs = Array.from({ length: 5 }, () => measure(fn));
    timings[label] = { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
  };
  const pairs = project.preferences;
  time('pairs first page', () => pairs.pairsPage({ offset: 0, limit: 50 }));
  time('pairs last page', () => pairs.pairsPage({ offset: N - 50, limit: 50 }));
  time('pairs search "chess" (12.5k hits), page 1', () => pairs.pairsPage({ search: 'chess', offset: 0, limit: 50 }));
  time('pairs search "chess", last page', () => pairs.pairsPage({ search: 'chess', offset: N / 8 - 50, limit: 50 }));
  time('pairs search "number 99999"', () => pairs.pairsPage({ search: 'number 99999', offset: 0, limit: 50 }));
  time('prompts last page', () => project.prompts.page({ offset: N - 50, limit: 50 }));
  time('prompts search "Question 4242 about"', () => project.prompts.page({ search: 'Question 4242 about', offset: 0, limit: 50 }));
  time('stats', () => project.stats.counts());
  project.close();
  console.log(
    `import: ${N} pairs in ${importWall.toFixed(2)} s wall, ${importCpu.toFixed(2)} s CPU ` +
      `(load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)\n` +
      Object.entries(timings)
        .map(([k, v]) => `  ${k}: ${v.wall.toFixed(1)} ms wall, ${v.cpu.toFixed(1)} ms CPU`)
        .join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
