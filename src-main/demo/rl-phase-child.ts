// The child process of one RL phase (rl-phase.ts): receives one request, trains on the project
// named in it, sends the result with this process's peak resident set, and exits.
import { initBackend } from '../engine/backend/backend.js';
import { runJobInProcess } from '../jobs/run-in-process.js';
import type { TrainStageResult } from '../jobs/types.js';
import { Project } from '../store/project.js';
import type { RlPhaseMessage, RlPhaseRequest, RlPhaseResult } from './rl-phase.js';

const send = (m: RlPhaseMessage) => new Promise<void>((ok) => process.send!(m, () => ok()));

async function run(req: RlPhaseRequest): Promise<Omit<RlPhaseResult, 'seconds' | 'peak_rss_mb'>> {
  await initBackend();
  const abort = new AbortController();
  process.once('SIGTERM', () => abort.abort());
  const project = Project.open(req.project);
  try {
    const progress = (done: number, total: number, message?: string) => void send({ type: 'progress', done, total, message });
    // Each method runs as the app's own training stage (job `train-<method>`): a run with its
    // curves and samples, and a checkpoint of that stage, in the demo project.
    const r = await runJobInProcess<TrainStageResult>(`train-${req.method}`, { from: req.from, config: { ...req.config, reward_model: req.reward_model }, name: req.name }, project, (p) => progress(p.done, p.total, p.message), {
      signal: abort.signal,
      log: (message) => void send({ type: 'log', message }),
    });
    const series = project.runs.metricsFor(r.run, Object.keys(r.metrics));
    return { checkpoint: r.checkpoint, run: r.run, metrics: r.metrics, series: Object.fromEntries(Object.entries(series).map(([k, s]) => [k, s.map((x) => ({ step: x.step, value: x.value }))])) };
  } finally {
    project.close();
  }
}

process.once('message', (req: RlPhaseRequest) => {
  run(req).then(
    async (r) => {
      await send({ type: 'done', result: { ...r, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) } });
      process.exit(0);
    },
    async (e: unknown) => {
      await send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      process.exit(1);
    },
  );
});
