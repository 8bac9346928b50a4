// RLOO or GRPO from the demo's SFT checkpoint against its reward model, straight on the engine
// (engine/rloo.ts, engine/grpo.ts): the store has no 'rloo' or 'grpo' run stage yet, so the demo
// keeps the metric series in memory and saves only the final policy, as a checkpoint of stage
// 'ppo' (the RL-policy stage the store knows) whose `extra.method` says which method trained it.
import { loadModel, saveModel } from '../engine/io/checkpoint-io.js';
import { grpoConfigSchema, trainGrpo } from '../engine/train/grpo.js';
import { loadRewardModel } from '../engine/io/reward-io.js';
import { rlooConfigSchema, trainRloo } from '../engine/train/rloo.js';
import { textEncoder } from '../engine/train/sequences.js';
import type { Project } from '../store/project.js';

export type CriticFreeMethodName = 'rloo' | 'grpo';

export interface CriticFreeRunParams {
  method: CriticFreeMethodName;
  /** The SFT checkpoint: the start of the policy and the frozen reference. */
  from: number;
  reward_model: number;
  /** The engine config of the method (rloo.ts / grpo.ts schemas). */
  config: Record<string, unknown>;
  name: string;
}

export interface CriticFreeRunResult {
  checkpoint: number;
  /** Every metric the method logged, per iteration. */
  series: Record<string, { step: number; value: number }[]>;
  metrics: Record<string, number>;
}

export async function runCriticFreeOnProject(
  project: Project,
  p: CriticFreeRunParams,
  hooks: { signal?: AbortSignal; progress?(done: number, total: number, message: string): void } = {},
): Promise<CriticFreeRunResult> {
  const rmInfo = project.checkpoints.get(p.reward_model);
  if (!rmInfo || rmInfo.stage !== 'rm') throw new Error(`reward_model ${p.reward_model} is not a reward-model checkpoint`);
  const config = p.method === 'rloo' ? rlooConfigSchema.parse(p.config) : grpoConfigSchema.parse(p.config);
  // Three models, no value model: the point of the critic-free methods.
  const ref = loadModel(project, p.from, config.seed);
  const start = loadModel(project, p.from, config.seed);
  const reward = loadRewardModel(project, p.reward_model, config.seed);
  const policy = start.model;
  const tokenizer = ref.tokenizer;
  try {
    const enc = textEncoder(tokenizer);
    const prompts = [...project.prompts.iterate()].filter((x) => x.split === 'train').map((x) => ({ text: x.text, ids: enc.prompt(x.text) }));
    const series: CriticFreeRunResult['series'] = {};
    const tok = { eosId: tokenizer.eosId, padId: tokenizer.padId, decode: (ids: number[]) => tokenizer.decode(ids, { skipSpecial: true }) };
    const models = { policy, ref: ref.model, reward: reward.model };
    const onStep = (step: number, m: Record<string, number>) => {
      for (const [k, v] of Object.entries(m)) (series[k] ??= []).push({ step, value: v });
      const score = m['objective/scores'] ?? m.reward;
      hooks.progress?.(step, config.steps, `score ${score?.toFixed(3)}`);
    };
    const h = { signal: hooks.signal, onStep };
    const result = p.method === 'rloo' ? await trainRloo(models, prompts, rlooConfigSchema.parse(p.config), tok, h) : await trainGrpo(models, prompts, grpoConfigSchema.parse(p.config), tok, h);
    if (result.step < config.steps) throw new Error('cancelled');
    const checkpoint = saveModel(project, {
      name: p.name,
      stage: 'ppo',
      model: policy,
      tokenizer,
      parentId: p.from,
      step: result.step,
      extra: { method: p.method, reward_model: p.reward_model, config, metrics: result.metrics },
    });
    return { checkpoint, series, metrics: result.metrics };
  } finally {
    policy.dispose();
    ref.model.dispose();
    reward.model.dispose();
  }
}
