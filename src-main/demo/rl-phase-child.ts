// The child process of one RL phase (rl-phase.ts): receives one request, trains on the project
// named in it, sends the result with this process's peak resident set, and exits.
import { initBackend } from '../engine/backend/backend.js';
import type { TrainStageResult } from '../jobs/kinds/train-rm.js';
import { runJobInProcess } from '../jobs/run-in-process.js';
import { Project } from '../store/project.js';
import { runCriticFreeOnProject } from './critic-free-run.js';
import type { RlPhaseMessage, RlPhaseRequest, RlPhaseResult } from './rl-phase.js';

const send = (m: RlPhaseMessage) => new Promise<void>((ok) => process.send!(m, () => ok()));

async function run(req: RlPhaseRequest): Promise<Omit<RlPhaseResult, 'seconds' | 'peak_rss_mb'>> {
  await initBackend();
  const abort = new AbortController();
  process.once('SIGTERM', () => abort.abort());
  const project = Project.open(req.project);
  try {
    const progress = (done: number, total: number, message?: string) => void send({ type: 'progress', done, total, message });
    if (req.method === 'ppo') {
      const r = await runJobInProcess<TrainStageResult>('train-ppo', { from: req.from, config: { ...req.config, reward_model: req.reward_model }, name: req.name }, project, (p) => progress(p.done, p.total, p.message), {
        signal: abort.signal,
        log: (message) => void send({ type: 'log', message }),
      });
      const series = project.runs.metricsFor(r.run, ['objective/scores', 'objective/kl', 'objective/kl_coef']);
      return { checkpoint: r.checkpoint, run: r.run, metrics: r.metrics, series: Object.fromEntries(Object.entries(series).map(([k, s]) => [k, s.map((x) => ({ step: x.step, value: x.value }))])) };
    }
    const r = await runCriticFreeOnProject(project, { ...req, method: req.method }, { signal: abort.signal, progress });
    return { checkpoint: r.checkpoint, run: null, metrics: r.metrics, series: r.series };
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
