// The `train-ppo` job: PPO from an SFT checkpoint against a reward model (`config.reward_model`),
// or the resume of an interrupted run. Metrics, sample tables and health warnings go to the run;
// checkpoints hold the policy (stage 'ppo'); intermediate ones also hold the value model
// (`value.*` tensors) and the optimizer state, which a resume needs and the final one does not.
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { loadModel, modelConfigOf, saveModel } from '../../engine/io/checkpoint-io.js';
import { GPT, ScalarHead } from '../../engine/models/model.js';
import { trainPpo, type PpoResumeState, type ValueModel } from '../../engine/train/ppo.js';
import { normalisedHeadWeights } from '../../engine/train/reward.js';
import { loadRewardModel } from '../../engine/io/reward-io.js';
import { textEncoder } from '../../engine/train/sequences.js';
import { ppoRunConfigSchema, type PpoRunConfig } from '../../train/ppo-run-config.js';
import type { JobFn, TrainStageResult } from '../types.js';
import { closeRun, etaClock, fromOrResume, markFailed, openRun, reportLongRecords, startOrResume, trainParamsShape } from './train-run.js';

export const trainPpoParamsSchema = fromOrResume(
  z
    .object({
      ...trainParamsShape,
      /** The reward model may also come next to the config, as a checkpoint id. */
      reward_model: z.number().int().positive().optional(),
    })
    .strict(),
);
export type TrainPpoParams = z.input<typeof trainPpoParamsSchema>;

/** Tensors of the value model inside a policy checkpoint, prefixed so they never clash with the GPT's. */
const VALUE_PREFIX = 'value.';

export const trainPpoJob: JobFn<TrainPpoParams, TrainStageResult> = async (rawParams, ctx) => {
  const params = trainPpoParamsSchema.parse(rawParams);
  const { project } = ctx;
  const backend = await initBackend();
  ctx.log(`backend: ${backend.name} (${backend.reason})`);

  const newRunConfig = params.reward_model === undefined ? params.config : { ...params.config, reward_model: params.reward_model };
  const { config, parentId, runId: resumedRun, last } = startOrResume<PpoRunConfig>(project, 'ppo', ppoRunConfigSchema, { ...params, config: newRunConfig });
  let runId = resumedRun;
  const resumeCheckpoint = last?.id ?? null;

  // The LoRA fields are shared by every stage (engine/models/lora.ts); this stage does not train adapters yet.
  if (config.lora_r > 0) throw new Error('LoRA adapters (lora_r > 0) are not implemented for PPO yet; set lora_r 0');
  const rmInfo = project.checkpoints.get(config.reward_model);
  if (!rmInfo || rmInfo.stage !== 'rm') throw new Error(`reward_model ${config.reward_model} is not a reward-model checkpoint`);
  // Four models: the trained policy and value model, the frozen reference and reward model.
  const ref = loadModel(project, parentId, config.seed);
  const start = loadModel(project, resumeCheckpoint ?? parentId, config.seed);
  const reward = loadRewardModel(project, config.reward_model, config.seed);
  const policy = start.model;
  const tokenizer = ref.tokenizer;
  let value: ValueModel;
  let resume: PpoResumeState | undefined;
  if (resumeCheckpoint !== null) {
    const state = start.info.extra?.resume as { step: number; klCoef: number; valueConfig: unknown } | undefined;
    if (!state || !start.optimizer) throw new Error(`checkpoint ${resumeCheckpoint} has no resume state`);
    const valueWeights: Record<string, Float32Array> = {};
    for (const [k, w] of Object.entries(start.weights)) if (k.startsWith(VALUE_PREFIX)) valueWeights[k.slice(VALUE_PREFIX.length)] = w;
    value = { backbone: GPT.fromWeights(modelConfigOf(state.valueConfig), valueWeights), head: ScalarHead.fromWeights(valueWeights) };
    resume = { step: state.step, klCoef: state.klCoef, optimizer: start.optimizer };
  } else if (config.value_init === 'reward') {
    if (reward.tokenizer.toJSON() !== tokenizer.toJSON()) throw new Error('the reward model uses a different tokenizer from the policy');
    // The head outputs normalised scores, as the rewards the value model learns to predict are.
    const head = ScalarHead.fromWeights(normalisedHeadWeights(reward.weights, reward.model.gain, reward.model.bias));
    value = { backbone: GPT.fromWeights(reward.config, reward.weights), head };
  } else {
    value = { backbone: GPT.fromWeights(ref.config, ref.weights), head: ScalarHead.create(ref.config.n_embd, config.seed) };
  }

  try {
    const enc = textEncoder(tokenizer);
    const trainPrompts = [...project.prompts.iterate()].filter((p) => p.split === 'train');
    const prompts = trainPrompts.map((p) => ({ text: p.text, ids: enc.prompt(p.text) }));
    if (prompts.length === 0) throw new Error('the project has no training prompts for PPO rollouts');
    const newRun = { stage: 'ppo' as const, name: params.name ?? `PPO from ${ref.info.name}`, config, parentCheckpointId: parentId, backend: backendLabel(backend) };
    const id = (runId = openRun(project, runId, newRun, resume?.step ?? 0, config.steps));
    const runName = project.runs.get(id)!.name;
    // Rollouts keep the end of a prompt that leaves fewer than max_new_tokens positions (ppo.ts rollout).
    const room = policy.config.n_positions - config.max_new_tokens;
    const long = prompts.flatMap((p, i) => (p.ids.length > room ? [{ name: `prompt #${trainPrompts[i]!.id}`, tokens: p.ids.length }] : []));
    reportLongRecords(project, ctx, id, long, room, 'their start');

    let lastCheckpoint = resumeCheckpoint ?? parentId;
    const eta = etaClock(resume?.step ?? 0);
    const result = await trainPpo(
      { policy, ref: ref.model, value, reward: reward.model },
      prompts,
      config,
      { eosId: tokenizer.eosId, padId: tokenizer.padId, decode: (ids) => tokenizer.decode(ids, { skipSpecial: true }) },
      {
        signal: ctx.signal,
        onStep: (step, m) => {
          project.runs.logMetrics(id, step, m);
          project.runs.setProgress(id, step);
          ctx.progress({
            runId: id,
            done: step,
            total: config.steps,
            unit: 'steps',
            rate: Math.round(m.tokens_per_second!),
            etaSeconds: eta(step, config.steps),
            message: `score ${m['objective/scores']!.toFixed(3)} · KL ${m['objective/kl']!.toFixed(3)} · β ${m['objective/kl_coef']!.toFixed(4)}`,
          });
        },
        onSamples: (step, rows) => project.runs.addSamples(id, step, rows),
        onWarning: (w) => {
          project.runs.addEvent(id, w.step, w.kind, w.message, { value: w.value, samples: w.samples });
          ctx.log(`warning at step ${w.step}: ${w.message}`);
        },
        onCheckpoint: (state, final) => {
          const resumable = !final || state.step < config.steps;
          const valueWeights: Record<string, Float32Array> = {};
          if (resumable) {
            for (const [k, w] of Object.entries({ ...value.backbone.getWeights(), ...value.head.getWeights() })) valueWeights[VALUE_PREFIX + k] = w;
          }
          lastCheckpoint = saveModel(project, {
            name: `${runName} · step ${state.step}`,
            stage: 'ppo',
            model: policy,
            tokenizer,
            runId: id,
            parentId,
            step: state.step,
            optimizer: resumable ? state.optimizer : null,
            extraWeights: valueWeights,
            extra: {
              reward_model: config.reward_model,
              metrics: project.runs.lastMetrics(id),
              ...(resumable ? { resume: { step: state.step, klCoef: state.klCoef, valueConfig: value.backbone.config } } : {}),
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
    ref.model.dispose();
    reward.model.dispose();
    value.backbone.dispose();
    value.head.dispose();
  }
};
