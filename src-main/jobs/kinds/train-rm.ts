// The `train-rm` job: a reward model from the project's rankings and A/B votes, starting from an
// SFT checkpoint (backbone) with a fresh scalar head, or the resume of an interrupted run. After
// training it normalises the scores on SFT samples and stores gain and bias with the checkpoint.
// With LoRA (lora_r > 0) the backbone trains adapters and the head trains fully; checkpoints then
// hold the adapter and the head, pointing to the base (engine/io/train-start.ts).
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { loadModel } from '../../engine/io/checkpoint-io.js';
import { ScalarHead, type GPT } from '../../engine/models/model.js';
import type { AdamWState } from '../../engine/train/optim.js';
import { loadPreferenceData, splitByPrompt } from '../../engine/train/preference-data.js';
import { rewardModelOf, saveRewardModel } from '../../engine/io/reward-io.js';
import { loadForTraining } from '../../engine/io/train-start.js';
import { RewardModel, normaliseRewardModel, rewardConfigSchema, rewardSteps, tokenGroups, trainRewardModel, type RewardConfig } from '../../engine/train/reward.js';
import { combineVotes } from '../../engine/train/rlhf-math.js';
import { textEncoder } from '../../engine/train/sequences.js';
import type { JobFn, TrainStageResult } from '../types.js';
import { closeRun, etaClock, longPreferencePrompts, markFailed, reportLongRecords, openRun, startOrResume, trainParamsSchema } from './train-run.js';

export const trainRmParamsSchema = trainParamsSchema;
export type TrainRmParams = z.input<typeof trainRmParamsSchema>;

export const trainRmJob: JobFn<TrainRmParams, TrainStageResult> = async (rawParams, ctx) => {
  const params = trainRmParamsSchema.parse(rawParams);
  const { project } = ctx;
  const backend = await initBackend();
  ctx.log(`backend: ${backend.name} (${backend.reason})`);

  const { config, parentId, runId: resumedRun, last } = startOrResume<RewardConfig>(project, 'rm', rewardConfigSchema, params);
  let runId = resumedRun;
  const resumeFrom = last ? { checkpoint: last.id, step: last.step } : null;

  // The backbone (with the run's LoRA settings applied: adapters on it, the head always trains
  // fully), loaded before the run row exists, so a bad checkpoint or setting leaves no empty run.
  const start = loadForTraining(project, { checkpoint: resumeFrom?.checkpoint ?? parentId, resume: resumeFrom !== null, lora: config, seed: config.seed, reference: false });
  let model: RewardModel;
  let optimizer: AdamWState | undefined;
  if (resumeFrom) {
    const loaded = rewardModelOf(start);
    if (!loaded.optimizer) {
      loaded.dispose();
      throw new Error(`checkpoint ${resumeFrom.checkpoint} has no optimizer state to resume from`);
    }
    model = loaded.model;
    optimizer = loaded.optimizer;
  } else {
    model = new RewardModel(start.model, ScalarHead.create(start.model.config.n_embd, config.seed));
  }
  if (start.model.lora) ctx.log(`${start.describe()}; the score head trains fully`);
  const adapterBase = start.adapterBase();
  // The SFT model, the sampler of the normalisation step: fresh adapters on it make the
  // backbone with its adapters off that very model (no second copy); otherwise it is loaded.
  const sftIsBackbone = start.model.lora !== null && adapterBase === parentId;
  let sft: GPT;
  try {
    sft = sftIsBackbone ? start.model : loadModel(project, parentId, config.seed).model;
  } catch (e) {
    model.dispose();
    throw e;
  }
  const parentName = project.checkpoints.get(parentId)?.name ?? `checkpoint ${parentId}`;
  const tokenizer = start.tokenizer;
  // Set once every step has trained and until the final checkpoint is saved: what a failure after
  // training (the normalisation) saves, so the trained weights stay and a resume only normalises.
  let rescue: (() => void) | null = null;
  try {
    const prefs = loadPreferenceData(project.preferences, {
      includeCompareVotes: config.include_compare_votes,
      marginPerTierGap: config.margin_per_tier_gap,
    });
    const split = splitByPrompt(prefs, config.eval_fraction, config.seed);
    const enc = textEncoder(tokenizer);
    const train = tokenGroups(combineVotes(split.train, config.combine), config.combine, prefs, enc);
    const held = tokenGroups(combineVotes(split.eval, config.combine), config.combine, prefs, enc);
    if (train.length === 0) throw new Error('no preference pairs to train on: rank some responses (ties and "both bad" give none)');
    ctx.log(`${split.train.length} training pairs over ${train.length} groups, ${split.eval.length} held-out pairs`);

    const total = rewardSteps(config, train.length);
    const newRun = { stage: 'rm' as const, name: params.name ?? `Reward model from ${parentName}`, config, parentCheckpointId: parentId, backend: backendLabel(backend) };
    const id = (runId = openRun(project, runId, newRun, resumeFrom?.step ?? 0, total));
    const runName = project.runs.get(id)!.name;
    const long = longPreferencePrompts(prefs, enc, model.backbone.config.n_positions, config.norm_max_new_tokens);
    reportLongRecords(project, ctx, id, long, model.backbone.config.n_positions, 'the start of their prompt');

    let lastCheckpoint = resumeFrom?.checkpoint ?? parentId;
    const eta = etaClock(resumeFrom?.step ?? 0);
    let finalOptimizer: AdamWState | null = null;
    const save = (step: number, opt: AdamWState | null, extra: Record<string, unknown> = {}, suffix = '') => {
      lastCheckpoint = saveRewardModel(project, {
        name: `${runName} · step ${step}${suffix}`,
        model,
        tokenizer,
        runId: id,
        parentId,
        step,
        optimizer: opt,
        extra: { ...extra, metrics: project.runs.lastMetrics(id) },
        ...(adapterBase !== undefined ? { adapterBase } : {}),
      });
    };
    const result = await trainRewardModel(
      model,
      { train, eval: held },
      config,
      tokenizer.padId,
      {
        signal: ctx.signal,
        onStep: (step, m) => {
          project.runs.logMetrics(id, step, m);
          project.runs.setProgress(id, step);
          ctx.progress({ runId: id, done: step, total, unit: 'steps', etaSeconds: eta(step, total), message: `loss ${m.loss!.toFixed(3)} · accuracy ${(m.accuracy! * 100).toFixed(0)}%` });
        },
        onEval: (step, m) => project.runs.logMetrics(id, step, m),
        onCheckpoint: (step, opt, final) => {
          if (final) finalOptimizer = opt;
          else save(step, opt);
        },
      },
      resumeFrom && optimizer ? { step: resumeFrom.step, optimizer } : undefined,
    );
    if (result.step < total) {
      save(result.step, finalOptimizer);
      return closeRun(project, ctx, id, result.step, lastCheckpoint);
    }
    rescue = () => save(result.step, finalOptimizer, { normalised: false }, ' (not normalised)');
    const trainPrompts = [...new Set(split.train.map((v) => v.prompt_id))].map((pid) => enc.prompt(prefs.prompts.get(pid)!.text));
    ctx.progress({ runId: id, done: total, total, unit: 'steps', message: 'normalising scores on SFT samples' });
    const norm = normaliseRewardModel(model, sft, trainPrompts, config, enc);
    project.runs.logMetrics(id, result.step, { 'normalisation/gain': norm.gain, 'normalisation/bias': norm.bias });
    rescue = null;
    save(result.step, null);
    return closeRun(project, ctx, id, null, lastCheckpoint);
  } catch (e) {
    if (rescue) {
      rescue();
      ctx.log(`the trained weights are kept in the run's last checkpoint; resume the run to normalise them`);
    }
    markFailed(project, runId, e);
    throw e;
  } finally {
    model.dispose();
    if (!sftIsBackbone) sft.dispose();
  }
};
