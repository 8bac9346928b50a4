// The `train-dpo` job: DPO of an SFT checkpoint on the project's preference pairs (rankings and
// A/B votes), against that checkpoint frozen as the reference; or the resume of an interrupted run.
// With LoRA (lora_r > 0) the policy is the checkpoint plus adapters and the reference is the same
// model with the adapters switched off: one copy of the weights, and adapter-only checkpoints.
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { loadModel, saveModel } from '../../engine/io/checkpoint-io.js';
import { loadForTraining } from '../../engine/io/train-start.js';
import type { GPT } from '../../engine/models/model.js';
import { dpoConfigSchema, dpoSteps, trainDpo, type DpoConfig, type DpoPair } from '../../engine/train/dpo.js';
import type { AdamWState } from '../../engine/train/optim.js';
import { loadPreferenceData, splitByPrompt, type PreferenceData } from '../../engine/train/preference-data.js';
import { combineVotes, type Vote } from '../../engine/train/rlhf-math.js';
import { textEncoder } from '../../engine/train/sequences.js';
import type { JobFn, TrainStageResult } from '../types.js';
import { closeRun, etaClock, longPreferencePrompts, markFailed, openRun, reportLongRecords, startOrResume, trainParamsSchema } from './train-run.js';

export const trainDpoParamsSchema = trainParamsSchema;
export type TrainDpoParams = z.input<typeof trainDpoParamsSchema>;

function dpoPairs(votes: Vote[], prefs: PreferenceData, enc: ReturnType<typeof textEncoder>): DpoPair[] {
  return votes.map((v) => ({
    prompt: enc.prompt(prefs.prompts.get(v.prompt_id)!.text),
    chosen: enc.response(prefs.responses.get(v.chosen)!),
    rejected: enc.response(prefs.responses.get(v.rejected)!),
  }));
}

export const trainDpoJob: JobFn<TrainDpoParams, TrainStageResult> = async (rawParams, ctx) => {
  const params = trainDpoParamsSchema.parse(rawParams);
  const { project } = ctx;
  const backend = await initBackend();
  ctx.log(`backend: ${backend.name} (${backend.reason})`);

  const { config, parentId, runId: resumedRun, last } = startOrResume<DpoConfig>(project, 'dpo', dpoConfigSchema, params);
  let runId = resumedRun;
  const resumeFrom = last ? { checkpoint: last.id, step: last.step } : null;

  // The policy, LoRA settings applied, before the run row exists (a bad setting leaves no empty run).
  const start = loadForTraining(project, { checkpoint: resumeFrom?.checkpoint ?? parentId, resume: resumeFrom !== null, lora: config, seed: config.seed, reference: true });
  const policy = start.model;
  let ref: GPT | null = null;
  try {
    // Full DPO keeps a frozen copy of the start model; a LoRA policy's reference is itself, adapters off.
    ref = policy.lora ? null : loadModel(project, parentId, config.seed).model;
  } catch (e) {
    policy.dispose();
    throw e;
  }
  if (policy.lora) ctx.log(`${start.describe()}; the reference is the same weights with the adapters off`);
  const tokenizer = start.tokenizer;
  const parentName = project.checkpoints.get(parentId)?.name ?? `checkpoint ${parentId}`;
  try {
    let resume: { step: number; optimizer: AdamWState } | undefined;
    if (resumeFrom) {
      if (!start.optimizer) throw new Error(`checkpoint ${resumeFrom.checkpoint} has no optimizer state to resume from`);
      resume = { step: resumeFrom.step, optimizer: start.optimizer };
    }
    const prefs = loadPreferenceData(project.preferences, { includeCompareVotes: config.include_compare_votes, marginPerTierGap: 0 });
    const split = splitByPrompt(prefs, config.eval_fraction, config.seed);
    const enc = textEncoder(tokenizer);
    const train = dpoPairs(combineVotes(split.train, config.combine), prefs, enc);
    const held = dpoPairs(combineVotes(split.eval, config.combine), prefs, enc);
    if (train.length === 0) throw new Error('no preference pairs to train on: rank some responses (ties and "both bad" give none)');
    ctx.log(`${train.length} training pairs, ${held.length} held-out pairs`);

    const total = dpoSteps(config, train.length);
    const newRun = { stage: 'dpo' as const, name: params.name ?? `DPO from ${parentName}`, config, parentCheckpointId: parentId, backend: backendLabel(backend) };
    const id = (runId = openRun(project, runId, newRun, resume?.step ?? 0, total));
    const runName = project.runs.get(id)!.name;
    reportLongRecords(project, ctx, id, longPreferencePrompts(prefs, enc, policy.config.n_positions), policy.config.n_positions, 'the start of their prompt');

    let lastCheckpoint = resumeFrom?.checkpoint ?? parentId;
    const eta = etaClock(resumeFrom?.step ?? 0);
    const result = await trainDpo(
      policy,
      ref,
      { train, eval: held },
      config,
      tokenizer.padId,
      {
        signal: ctx.signal,
        onStep: (step, m) => {
          project.runs.logMetrics(id, step, m);
          project.runs.setProgress(id, step);
          ctx.progress({ runId: id, done: step, total, unit: 'steps', etaSeconds: eta(step, total), message: `loss ${m.loss!.toFixed(3)} · accuracy ${(m['rewards/accuracies']! * 100).toFixed(0)}%` });
        },
        onEval: (step, m) => project.runs.logMetrics(id, step, m),
        onCheckpoint: (step, optimizer, final) => {
          const resumable = !final || step < total;
          lastCheckpoint = saveModel(project, {
            name: `${runName} · step ${step}`,
            stage: 'dpo',
            model: policy,
            tokenizer,
            runId: id,
            parentId,
            step,
            optimizer: resumable ? optimizer : null,
            extra: { metrics: project.runs.lastMetrics(id) },
            // Asked at the first save: a merged base (LoRA from a LoRA checkpoint) is stored only then.
            ...(policy.lora ? { adapterBase: start.adapterBase() } : {}),
          });
        },
      },
      resume,
    );
    return closeRun(project, ctx, id, result.step < total ? result.step : null, lastCheckpoint);
  } catch (e) {
    markFailed(project, runId, e);
    throw e;
  } finally {
    policy.dispose();
    ref?.dispose();
  }
};
