// The `judge-checkpoints` job: every checkpoint of a PPO run against the SFT model it started from,
// by the run's reward model, the gold rubric (demo project) and stored blind votes, with KL — so
// Compare can show the reward model's verdict next to the gold/human one per checkpoint. The result
// is kept in project_meta (`checkpoint_judges.<run>`).
import { z } from 'zod';
import { judgeCheckpoints, type CheckpointJudgement } from '../../compare/checkpoint-judges.js';
import { isDemoProject } from '../../demo/pipeline.js';
import { initBackend } from '../../engine/backend/backend.js';
import type { Project } from '../../store/project.js';
import type { JobFn } from '../types.js';
import { JobCancelled } from '../../shared/errors.js';

export const judgeCheckpointsParamsSchema = z
  .object({
    run: z.number().int().positive(),
    prompts: z.number().int().min(1).max(1000).default(96),
    seed: z.number().int().min(0).default(0),
  })
  .strict();
export type JudgeCheckpointsParams = z.input<typeof judgeCheckpointsParamsSchema>;

export interface CheckpointJudgesResult {
  run: number;
  sft: number;
  rm: number;
  prompts: number;
  gold: boolean;
  points: CheckpointJudgement[];
}

const metaKey = (run: number) => `checkpoint_judges.${run}`;

export function readCheckpointJudges(project: Project, run: number): CheckpointJudgesResult | null {
  const row = project.db.prepare<[string], { value: string }>('SELECT value FROM project_meta WHERE key = ?').get(metaKey(run));
  return row ? (JSON.parse(row.value) as CheckpointJudgesResult) : null;
}

export const judgeCheckpointsJob: JobFn<JudgeCheckpointsParams, CheckpointJudgesResult> = async (raw, ctx) => {
  const p = judgeCheckpointsParamsSchema.parse(raw);
  const { project } = ctx;
  await initBackend();
  const run = project.runs.get(p.run);
  if (!run || run.stage !== 'ppo') throw new Error(`run ${p.run} is not a PPO run`);
  const sft = run.parent_checkpoint_id;
  const rm = Number((run.config as { reward_model?: number }).reward_model);
  if (sft === null || !Number.isInteger(rm)) throw new Error(`run ${p.run} does not name its SFT checkpoint and reward model`);
  const checkpoints = project.checkpoints
    .list()
    .filter((c) => c.run_id === p.run)
    .map((c) => ({ id: c.id, step: c.step }))
    .sort((a, b) => a.step - b.step);
  if (checkpoints.length === 0) throw new Error(`run ${p.run} has no checkpoints yet`);
  const gold = isDemoProject(project);
  const config = run.config as { temperature?: number; max_new_tokens?: number };
  try {
    const { prompts, points } = await judgeCheckpoints(
      project,
      { sft, rm, checkpoints, prompts: p.prompts, gold, seed: p.seed, temperature: config.temperature ?? 0.7, max_new_tokens: config.max_new_tokens ?? 48 },
      { progress: (done, total, message) => ctx.progress({ done, total, unit: 'checkpoints', message }), signal: ctx.signal },
    );
    const result: CheckpointJudgesResult = { run: p.run, sft, rm, prompts, gold, points };
    project.db
      .prepare('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(metaKey(p.run), JSON.stringify(result));
    return result;
  } catch (e) {
    if (ctx.signal.aborted) throw new JobCancelled();
    throw e;
  }
};
