// The `train-rm` job: a reward model from the project's rankings and A/B votes, starting from an
// SFT checkpoint (backbone) with a fresh scalar head, or the resume of an interrupted run. After
// training it normalises the scores on SFT samples and stores gain and bias with the checkpoint.
import { z } from 'zod';
import { initBackend } from '../../engine/backend.js';
import { loadModel } from '../../engine/checkpoint-io.js';
import { ScalarHead } from '../../engine/model.js';
import type { AdamWState } from '../../engine/optim.js';
import { loadPreferenceData, splitByPrompt } from '../../engine/preference-data.js';
import { loadRewardModel, saveRewardModel } from '../../engine/reward-io.js';
import { RewardModel, normaliseRewardModel, rewardConfigSchema, rewardSteps, tokenGroups, trainRewardModel, type RewardConfig } from '../../engine/reward.js';
import { combineVotes } from '../../engine/rlhf-math.js';
import { textEncoder } from '../../engine/sequences.js';
import { JobCancelled, type JobFn } from '../types.js';
import { startOrResume, trainParamsSchema, type TrainStageResult } from './train-run.js';

export const trainRmParamsSchema = trainParamsSchema;
export type TrainRmParams = z.input<typeof trainRmParamsSchema>;

export type { TrainStageResult };

export const trainRmJob: JobFn<TrainRmParams, TrainStageResult> = async (rawParams, ctx) => {
  const params = trainRmParamsSchema.parse(rawParams);
  const { project } = ctx;
  const backend = await initBackend();
  ctx.log(`backend: ${backend.name} (${backend.reason})`);

  const { config, parentId, runId: resumedRun, last } = startOrResume<RewardConfig>(project, 'rm', rewardConfigSchema, params);
  let runId = resumedRun;
  const resumeFrom = last ? { checkpoint: last.id, step: last.step } : null;

  // The SFT model: the backbone's start, and the sampler of the normalisation step.
  const sft = loadModel(project, parentId, config.seed);
  let model: RewardModel;
  let optimizer: AdamWState | undefined;
  if (resumeFrom) {
    const loaded = loadRewardModel(project, resumeFrom.checkpoint, config.seed);
    if (!loaded.optimizer) throw new Error(`checkpoint ${resumeFrom.checkpoint} has no optimizer state to resume from`);
    model = loaded.model;
    optimizer = loaded.optimizer;
  } else {
    const backbone = loadModel(project, parentId, config.seed).model;
    model = new RewardModel(backbone, ScalarHead.create(backbone.config.n_embd, config.seed));
  }
  const tokenizer = sft.tokenizer;
  try {
    const prefs = loadPreferenceData(project.db, {
      includeCompareVotes: config.include_compare_votes,
      marginPerTierGap: config.margin_per_tier_gap,
    });
    const split = splitByPrompt(prefs, config.eval_fraction, config.seed);
    const enc = textEncoder(tokenizer);
    const train = tokenGroups(combineVotes(split.train, config.combine), config.combine, prefs, enc);
    const held = tokenGroups(combineVotes(split.eval, config.combine), config.combine, prefs, enc);
    if (train.length === 0) throw new Error('no preference pairs to train on: rank some responses (ties and "both bad" give none)');
    ctx.log(`${split.train.length} training pairs over ${train.length} groups, ${split.eval.length} held-out pairs`);

    runId ??= project.runs.createRun({
      stage: 'rm',
      name: params.name ?? `Reward model from ${sft.info.name}`,
      config,
      parentCheckpointId: parentId,
      backend: backend.name,
    });
    const id = runId;
    const runName = project.runs.get(id)!.name;
    const total = rewardSteps(config, train.length);
    project.runs.setBackend(id, backend.name);
    project.runs.setProgress(id, resumeFrom?.step ?? 0, total);
    project.runs.setStatus(id, 'running');

    let lastCheckpoint = resumeFrom?.checkpoint ?? parentId;
    let finalOptimizer: AdamWState | null = null;
    const save = (step: number, opt: AdamWState | null, extra: Record<string, unknown> = {}) => {
      lastCheckpoint = saveRewardModel(project, {
        name: `${runName} · step ${step}`,
        model,
        tokenizer,
        runId: id,
        parentId,
        step,
        optimizer: opt,
        extra: { ...extra, metrics: project.runs.lastMetrics(id) },
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
          ctx.progress({ runId: id, done: step, total, unit: 'steps', message: `loss ${m.loss!.toFixed(3)} · accuracy ${(m.accuracy! * 100).toFixed(0)}%` });
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
      project.runs.setStatus(id, 'stopped');
      ctx.log(`run ${id} stopped at step ${result.step}; resume it with --resume ${id}`);
      throw new JobCancelled();
    }
    const trainPrompts = [...new Set(split.train.map((v) => v.prompt_id))].map((pid) => enc.prompt(prefs.prompts.get(pid)!.text));
    ctx.progress({ runId: id, done: total, total, unit: 'steps', message: 'normalising scores on SFT samples' });
    const norm = normaliseRewardModel(model, sft.model, trainPrompts, config, enc);
    project.runs.logMetrics(id, result.step, { 'normalisation/gain': norm.gain, 'normalisation/bias': norm.bias });
    save(result.step, null);
    project.runs.setStatus(id, 'completed');
    return { run: id, checkpoint: lastCheckpoint, metrics: project.runs.lastMetrics(id), stopped: false };
  } catch (e) {
    if (runId !== undefined && !(e instanceof JobCancelled)) project.runs.setStatus(runId, 'failed', e instanceof Error ? e.message : String(e));
    throw e;
  } finally {
    model.dispose();
    sft.model.dispose();
  }
};
