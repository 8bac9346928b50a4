// What the `train-rloo` and `train-grpo` jobs share: RLOO or GRPO from an SFT checkpoint against a
// reward model (`config.reward_model`), or the resume of an interrupted run. Three models are
// loaded (policy, frozen reference, reward model; no value model). Metrics and the grouped sample
// tables go to the run; checkpoints hold the policy, with the SFT checkpoint as parent and the
// reward model in `extra.reward_model`; intermediate ones also hold the optimizer state and the
// step, which a resume needs (as train-ppo.ts does) and the final one does not. With LoRA
// (lora_r > 0) they hold the policy's adapter, pointing to its base; the reference is that base
// with the adapters off.
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { saveModel } from '../../engine/io/checkpoint-io.js';
import type { CriticFreeHooks, CriticFreeModels, CriticFreeResumeState } from '../../engine/train/critic-free.js';
import type { PpoPrompt, PpoTokens } from '../../engine/train/ppo.js';
import { loadRewardModel, type LoadedRewardModel } from '../../engine/io/reward-io.js';
import { loadForTraining, type LoraRunSettings } from '../../engine/io/train-start.js';
import type { GPT } from '../../engine/models/model.js';
import { textEncoder } from '../../engine/train/sequences.js';
import type { RunStage } from '../../shared/vocabulary.js';
import type { JobFn } from '../types.js';
import { closeRun, etaClock, fromOrResume, loadReference, markFailed, openRun, reportLongRecords, startOrResume, trainParamsShape } from './train-run.js';

/** What every training job returns (closeRun's result; the CLI prints it with --json). */
type TrainStageResult = ReturnType<typeof closeRun>;

export const trainCriticFreeParamsSchema = fromOrResume(
  z
    .object({
      ...trainParamsShape,
      /** The reward model may also come next to the config, as a checkpoint id. */
      reward_model: z.number().int().positive().optional(),
    })
    .strict(),
);
export type TrainCriticFreeParams = z.input<typeof trainCriticFreeParamsSchema>;

type LoopConfig = Record<string, unknown> & {
  seed: number;
  steps: number;
  max_new_tokens: number;
  reward_model: number;
};

/** The run's LoRA fields (every stage's config has them, engine/models/lora.ts loraRunFields). */
function loraSettings(c: LoopConfig): LoraRunSettings {
  return { lora_r: Number(c.lora_r ?? 0), lora_alpha: Number(c.lora_alpha ?? 16), lora_dropout: Number(c.lora_dropout ?? 0), lora_targets: String(c.lora_targets ?? '') };
}

/** One critic-free stage: its name, its engine's training function and the progress line of a step. */
export interface CriticFreeStage<C extends LoopConfig> {
  stage: RunStage;
  label: string;
  schema: z.ZodType<C>;
  train(models: CriticFreeModels, prompts: PpoPrompt[], config: C, tok: PpoTokens, hooks: CriticFreeHooks, resume?: CriticFreeResumeState): Promise<{ step: number; metrics: Record<string, number> }>;
  message(metrics: Record<string, number>): string;
}

export function criticFreeJob<C extends LoopConfig>(s: CriticFreeStage<C>): JobFn<TrainCriticFreeParams, TrainStageResult> {
  return async (rawParams, ctx) => {
    const params = trainCriticFreeParamsSchema.parse(rawParams);
    const { project } = ctx;
    const backend = await initBackend();
    ctx.log(`backend: ${backend.name} (${backend.reason})`);

    const newRunConfig = params.reward_model === undefined ? params.config : { ...params.config, reward_model: params.reward_model };
    const { config, parentId, runId: resumedRun, last } = startOrResume<C>(project, s.stage, s.schema, { ...params, config: newRunConfig });
    let runId = resumedRun;
    const resumeCheckpoint = last?.id ?? null;

    const rmInfo = project.checkpoints.get(config.reward_model);
    if (!rmInfo || rmInfo.stage !== 'rm') throw new Error(`reward_model ${config.reward_model} is not a reward-model checkpoint`);
    // The policy, set up for the run's LoRA settings (engine/io/train-start.ts); with LoRA the
    // reference is its base with the adapters off (engine/train/lora-views.ts), no second copy.
    const start = loadForTraining(project, { checkpoint: resumeCheckpoint ?? parentId, resume: resumeCheckpoint !== null, lora: loraSettings(config), seed: config.seed, reference: true });
    const policy = start.model;
    const lora = policy.lora !== null;
    const tokenizer = start.tokenizer;
    let ref: GPT;
    let refName: string;
    let reward: LoadedRewardModel;
    try {
      ({ model: ref, name: refName } = loadReference(project, policy, parentId, config.seed));
    } catch (e) {
      policy.dispose();
      throw e;
    }
    try {
      reward = loadRewardModel(project, config.reward_model, config.seed);
    } catch (e) {
      policy.dispose();
      ref.dispose();
      throw e;
    }
    ctx.log(`policy: ${start.describe()}${lora ? '; reference: its base with the adapters off' : ''}`);
    try {
      if (reward.tokenizer.toJSON() !== tokenizer.toJSON()) throw new Error('the reward model uses a different tokenizer from the policy');
      let resume: CriticFreeResumeState | undefined;
      if (resumeCheckpoint !== null) {
        const state = start.info.extra?.resume as { step: number } | undefined;
        if (!state || !start.optimizer) throw new Error(`checkpoint ${resumeCheckpoint} has no resume state`);
        resume = { step: state.step, optimizer: start.optimizer };
      }
      const enc = textEncoder(tokenizer);
      const trainPrompts = [...project.prompts.iterate()].filter((p) => p.split === 'train');
      const prompts = trainPrompts.map((p) => ({ text: p.text, ids: enc.prompt(p.text) }));
      if (prompts.length === 0) throw new Error(`the project has no training prompts for ${s.label} rollouts`);
      const newRun = { stage: s.stage, name: params.name ?? `${s.label} from ${refName}`, config, parentCheckpointId: parentId, backend: backendLabel(backend) };
      const id = (runId = openRun(project, runId, newRun, resume?.step ?? 0, config.steps));
      const runName = project.runs.get(id)!.name;
      // Rollouts keep the end of a prompt that leaves fewer than max_new_tokens positions (critic-free.ts groupRollout).
      const room = policy.config.n_positions - config.max_new_tokens;
      const long = prompts.flatMap((p, i) => (p.ids.length > room ? [{ name: `prompt #${trainPrompts[i]!.id}`, tokens: p.ids.length }] : []));
      reportLongRecords(project, ctx, id, long, room, 'their start');

      let lastCheckpoint = resumeCheckpoint ?? parentId;
      const eta = etaClock(resume?.step ?? 0);
      const result = await s.train(
        { policy, ref, reward: reward.model },
        prompts,
        config,
        { eosId: tokenizer.eosId, padId: tokenizer.padId, decode: (ids) => tokenizer.decode(ids, { skipSpecial: true }) },
        {
          signal: ctx.signal,
          onStep: (step, m) => {
            project.runs.logMetrics(id, step, m);
            project.runs.setProgress(id, step);
            ctx.progress({ runId: id, done: step, total: config.steps, unit: 'steps', rate: Math.round(m.tokens_per_second!), etaSeconds: eta(step, config.steps), message: s.message(m) });
          },
          onSamples: (step, rows) => project.runs.addSamples(id, step, rows),
          onCheckpoint: (state, final) => {
            const resumable = !final || state.step < config.steps;
            lastCheckpoint = saveModel(project, {
              name: `${runName} · step ${state.step}`,
              stage: s.stage,
              model: policy,
              ...(lora ? { adapterBase: start.adapterBase() } : {}),
              tokenizer,
              runId: id,
              parentId,
              step: state.step,
              optimizer: resumable ? state.optimizer : null,
              extra: {
                reward_model: config.reward_model,
                metrics: project.runs.lastMetrics(id),
                ...(resumable ? { resume: { step: state.step } } : {}),
              },
            });
          },
        },
        resume,
      );
      return closeRun(project, ctx, id, result.step < config.steps ? result.step : null, lastCheckpoint);
    } catch (e) {
      markFailed(project, runId, e);
      throw e;
    } finally {
      policy.dispose();
      ref.dispose();
      reward.model.dispose();
    }
  };
}
