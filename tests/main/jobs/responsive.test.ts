// The point of the worker: a big import runs while the main thread (window, server) keeps
// answering. Measures the main event loop's delay during a 5 000-pair import.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Services } from '../../../src-main/api/services.js';

const PAIRS = 5_000;
let dir: string;
let services: Services;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-responsive-'));
  const lines: string[] = [];
  for (let i = 0; i < PAIRS; i++) {
    lines.push(JSON.stringify({ prompt: `Question ${i}: how do I stay kind?`, chosen: `Listen first (${i}).`, rejected: `Whatever (${i}).` }));
  }
  writeFileSync(join(dir, 'prefs.jsonl'), lines.join('\n') + '\n');
  services = new Services({ dataDir: join(dir, 'home') });
  services.openProject(join(dir, 'p.rlhf'), { create: true });
});
afterAll(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('jobs keep the main thread free', () => {
  it('imports 5 000 pairs in a worker while the main event loop stays responsive', async () => {
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const t0 = performance.now();
    const job = services.startJob('import', { file: join(dir, 'prefs.jsonl'), as: 'preferences' }, 'prefs.jsonl');
    // Meanwhile the main thread keeps reading the project, as the UI would.
    let reads = 0;
    const reader = setInterval(() => {
      services.project().db.prepare('SELECT count(*) FROM prompts').get();
      reads++;
    }, 20);
    const done = await services.jobs.wait(job.id);
    clearInterval(reader);
    delay.disable();
    const seconds = (performance.now() - t0) / 1000;
    expect(done).toMatchObject({ status: 'completed', result: { imported: PAIRS } });
    const maxMs = delay.max / 1e6;
    console.log(`import of ${PAIRS} pairs in a worker: ${seconds.toFixed(1)} s; main loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms, max ${maxMs.toFixed(0)} ms; ${reads} reads meanwhile`);
    expect(reads).toBeGreaterThan(5);
    // In-process, the import would hold the loop for its whole duration (seconds); the bound
    // leaves room for a busy shared machine's scheduling hiccups.
    expect(maxMs).toBeLessThan(Math.min(750, (seconds * 1000) / 3));
  });
});
