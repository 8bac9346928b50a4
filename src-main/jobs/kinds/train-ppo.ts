// The `train-ppo` job: PPO from an SFT checkpoint against a reward model (`config.reward_model`),
// or the resume of an interrupted run. Metrics, sample tables and health warnings go to the run;
// checkpoints hold the policy (stage 'ppo'); intermediate ones also hold the value model
// (`value.*` tensors) and the optimizer state, which a resume needs and the final one does not.
// With LoRA (lora_r > 0) checkpoints hold the policy's adapter, pointing to its base, and the
// value model's adapter and head; the reference is the policy's base with the adapters off.
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { modelConfigOf, saveModel } from '../../engine/io/checkpoint-io.js';
import { GPT, ScalarHead } from '../../engine/models/model.js';
import { trainPpo, type PpoResumeState, type ValueModel } from '../../engine/train/ppo.js';
import { normalisedHeadWeights } from '../../engine/train/reward.js';
import { loadRewardModel, type LoadedRewardModel } from '../../engine/io/reward-io.js';
import { loadForTraining } from '../../engine/io/train-start.js';
import { adaptedView } from '../../engine/train/lora-views.js';
import { textEncoder } from '../../engine/train/sequences.js';
import { ppoRunConfigSchema, type PpoRunConfig } from '../../train/ppo-run-config.js';
import type { JobFn, TrainStageResult } from '../types.js';
import { closeRun, etaClock, fromOrResume, loadReference, markFailed, openRun, reportLongRecords, startOrResume, trainParamsShape } from './train-run.js';

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

  const rmInfo = project.checkpoints.get(config.reward_model);
  if (!rmInfo || rmInfo.stage !== 'rm') throw new Error(`reward_model ${config.reward_model} is not a reward-model checkpoint`);
  // The policy, set up for the run's LoRA settings (engine/io/train-start.ts). With LoRA the
  // reference is the policy's base with its adapters off, and the value model an adapter (plus
  // its head) on the backbone it starts from: one copy of each base (engine/train/lora-views.ts).
  // Without: four models, the trained policy and value model, the frozen reference and reward model.
  const start = loadForTraining(project, { checkpoint: resumeCheckpoint ?? parentId, resume: resumeCheckpoint !== null, lora: config, seed: config.seed, reference: true });
  const policy = start.model;
  const lora = policy.lora?.config ?? null;
  const tokenizer = start.tokenizer;
  const held: Array<{ dispose(): void }> = [policy];
  const hold = <T extends { dispose(): void }>(x: T): T => (held.push(x), x);
  let ref: GPT;
  let refName: string;
  let reward: LoadedRewardModel;
  let value: ValueModel;
  let resume: PpoResumeState | undefined;
  try {
    reward = hold(loadRewardModel(project, config.reward_model, config.seed));
    const reference = loadReference(project, policy, parentId, config.seed);
    ref = hold(reference.model);
    refName = reference.name;
    const valueInit = config.value_init === 'reward' ? reward.model.backbone : ref;
    if (resumeCheckpoint !== null) {
      const state = start.info.extra?.resume as { step: number; klCoef: number; valueConfig: unknown } | undefined;
      if (!state || !start.optimizer) throw new Error(`checkpoint ${resumeCheckpoint} has no resume state`);
      const valueWeights: Record<string, Float32Array> = {};
      for (const [k, w] of Object.entries(start.weights)) if (k.startsWith(VALUE_PREFIX)) valueWeights[k.slice(VALUE_PREFIX.length)] = w;
      value = {
        backbone: hold(lora ? adaptedView(valueInit, lora, config.seed + 1, 'the value model', valueWeights) : GPT.fromWeights(modelConfigOf(state.valueConfig), valueWeights)),
        head: hold(ScalarHead.fromWeights(valueWeights)),
      };
      resume = { step: state.step, klCoef: state.klCoef, optimizer: start.optimizer };
    } else {
      if (config.value_init === 'reward' && reward.tokenizer.toJSON() !== tokenizer.toJSON()) throw new Error('the reward model uses a different tokenizer from the policy');
      // From the reward model the head outputs normalised scores, as the rewards the value model learns to predict are.
      const head = config.value_init === 'reward' ? ScalarHead.fromWeights(normalisedHeadWeights(reward.weights, reward.model.gain, reward.model.bias)) : ScalarHead.create(policy.config.n_embd, config.seed);
      value = {
        backbone: hold(lora ? adaptedView(valueInit, lora, config.seed + 1, 'the value model') : GPT.fromWeights(valueInit.config, valueInit.getWeights())),
        head: hold(head),
      };
    }
  } catch (e) {
    for (const x of held.reverse()) x.dispose();
    throw e;
  }
  ctx.log(`policy: ${start.describe()}${lora ? `; reference: its base with the adapters off; value model: LoRA adapters and a head on the ${config.value_init === 'reward' ? "reward model's" : "policy's"} base` : ''}`);

  try {
    const enc = textEncoder(tokenizer);
    const trainPrompts = [...project.prompts.iterate()].filter((p) => p.split === 'train');
    const prompts = trainPrompts.map((p) => ({ text: p.text, ids: enc.prompt(p.text) }));
    if (prompts.length === 0) throw new Error('the project has no training prompts for PPO rollouts');
    const newRun = { stage: 'ppo' as const, name: params.name ?? `PPO from ${refName}`, config, parentCheckpointId: parentId, backend: backendLabel(backend) };
    const id = (runId = openRun(project, runId, newRun, resume?.step ?? 0, config.steps));
    const runName = project.runs.get(id)!.name;
    // Rollouts keep the end of a prompt that leaves fewer than max_new_tokens positions (ppo.ts rollout).
    const room = policy.config.n_positions - config.max_new_tokens;
    const long = prompts.flatMap((p, i) => (p.ids.length > room ? [{ name: `prompt #${trainPrompts[i]!.id}`, tokens: p.ids.length }] : []));
    reportLongRecords(project, ctx, id, long, room, 'their start');

    let lastCheckpoint = resumeCheckpoint ?? parentId;
    const eta = etaClock(resume?.step ?? 0);
    const result = await trainPpo(
      { policy, ref, value, reward: reward.model },
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
            // A LoRA value model is its adapter and head (its base is the policy's or the reward model's).
            const backbone = value.backbone.lora?.getWeights() ?? value.backbone.getWeights();
            for (const [k, w] of Object.entries({ ...backbone, ...value.head.getWeights() })) valueWeights[VALUE_PREFIX + k] = w;
          }
          lastCheckpoint = saveModel(project, {
            name: `${runName} · step ${state.step}`,
            stage: 'ppo',
            model: policy,
            ...(lora ? { adapterBase: start.adapterBase() } : {}),
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
    for (const x of held.reverse()) x.dispose();
  }
};
