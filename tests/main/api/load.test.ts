// Concurrency under load: a training run writes metrics from its worker thread while several
// invited annotators submit judgments over HTTP and the UI polls the curves. No SQLITE_BUSY may
// reach anyone, and no write may be lost or doubled. Prints judgments/s and latency figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelItemView, Result } from '../../../src-main/shared/contract.js';
import { Services } from '../../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../../src-main/server.js';

const ANNOTATORS = 4;
const PROMPTS = 60;

let dir: string;
let services: Services;
let server: RunningServer;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function post<T>(method: string, input: unknown, token?: string): Promise<{ ms: number; res: Result<T> }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // Invited teammates come from another machine (any Host but the loopback name).
    if (token) Object.assign(headers, { host: `192.0.2.7:${server.port}`, authorization: `Bearer ${token}` });
    const req = request({ host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`${method}: HTTP ${res.statusCode} ${text}`));
        else resolve({ ms: performance.now() - t0, res: JSON.parse(text) as Result<T> });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(input));
  });
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-load-'));
  services = new Services({
    dataDir: join(dir, 'home'),
    jobRegistry: { metrics: { module: new URL('./fixtures/metrics-job.ts', import.meta.url).href, export: 'metricsJob', changes: ['runs'] } },
  });
  const p = services.openProject(join(dir, 'load.rlhf'), { create: true });
  p.db.transaction(() => {
    for (let i = 0; i < PROMPTS; i++) {
      const { id } = p.prompts.upsert(`Prompt number ${i}: say something kind.`);
      for (const t of ['A short kind answer.', 'A long and rambling answer.']) p.responses.upsert({ promptId: id, text: `${t} (${i})`, source: 'import' });
    }
  })();
  server = await startServer({ services, lan: true, host: '127.0.0.1' });
});
afterAll(async () => {
  agent.destroy();
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('load: training, annotators and the UI at once', () => {
  it('keeps every judgment and every metric, with no SQLITE_BUSY surfacing', async () => {
    const project = services.project();
    const runId = project.runs.createRun({ stage: 'sft', name: 'load', config: {}, status: 'running' });
    const task = await post<{ task: { id: number } }>('label.createTask', { name: 'load', mode: 'ranking', k: 2, minAnnotators: ANNOTATORS });
    expect(task.res.ok).toBe(true);
    const taskId = (task.res as { ok: true; value: { task: { id: number } } }).value.task.id;
    const tokens: string[] = [];
    for (let a = 0; a < ANNOTATORS; a++) tokens.push(project.invites.create(project.annotators.ensure(`annotator-${a}`))!.token);

    const training = services.startJob('metrics', { runId, everyMs: 2 }, 'load');
    const errors: string[] = [];
    const latencies: number[] = [];
    let done = false;

    const reader = (async () => {
      let polls = 0;
      while (!done) {
        const { res } = await post('runs.metrics', { runIds: [runId] });
        if (!res.ok) errors.push(`runs.metrics: ${res.error.message}`);
        polls++;
        await new Promise((r) => setTimeout(r, 25));
      }
      return polls;
    })();

    const t0 = performance.now();
    const annotators = tokens.map(async (token) => {
      let submitted = 0;
      for (;;) {
        const next = await post<LabelItemView | null>('label.next', { taskId }, token);
        if (!next.res.ok) {
          errors.push(`label.next: ${next.res.error.message}`);
          break;
        }
        const view = next.res.value;
        if (!view) break;
        const ranking = view.responses.map((r) => [r.id]);
        const sub = await post('label.submit', { itemId: view.item.id, ranking, seconds_spent: 1 }, token);
        latencies.push(sub.ms);
        if (!sub.res.ok) errors.push(`label.submit: ${sub.res.error.message}`);
        else submitted++;
      }
      return submitted;
    });
    const submitted = (await Promise.all(annotators)).reduce((a, b) => a + b, 0);
    const seconds = (performance.now() - t0) / 1000;
    done = true;
    const polls = await reader;
    services.jobs.cancel(training.id);
    const finished = await services.jobs.wait(training.id);

    expect(errors).toEqual([]);
    // Every judgment exactly once: one per item and annotator.
    expect(submitted).toBe(PROMPTS * ANNOTATORS);
    const rows = project.db.prepare("SELECT count(*) AS n, count(DISTINCT item_id || ':' || annotator_id) AS d FROM rankings WHERE status = 'submitted'").get() as { n: number; d: number };
    expect(rows).toEqual({ n: PROMPTS * ANNOTATORS, d: PROMPTS * ANNOTATORS });
    // Every metric step the run logged is there, three keys each.
    expect(finished.status).toBe('cancelled');
    const metrics = project.db.prepare('SELECT count(*) AS n, count(DISTINCT step) AS steps, max(step) AS last FROM metrics WHERE run_id = ?').get(runId) as {
      n: number;
      steps: number;
      last: number;
    };
    expect(metrics.steps).toBe(metrics.last + 1);
    expect(metrics.n).toBe(metrics.steps * 3);

    const figures = {
      judgmentsPerSecond: Math.round(submitted / seconds),
      p50ms: Math.round(percentile(latencies, 50)),
      p95ms: Math.round(percentile(latencies, 95)),
      metricSteps: metrics.steps,
      curvePolls: polls,
    };
    console.log('load figures', JSON.stringify(figures));
    expect(figures.p95ms).toBeLessThan(1000);
  });
});
