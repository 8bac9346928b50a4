// The `train-sft` job: a supervised fine-tuning run from a checkpoint, or the resume of an
// interrupted one. Creates the run row, writes metrics and checkpoints to the store as they come,
// reports progress (step, tokens/s, ETA); a cancel saves a checkpoint and leaves the run 'stopped'.
import { z } from 'zod';
import { backendLabel, initBackend } from '../../engine/backend/backend.js';
import { saveModel, type LoadedModel } from '../../engine/io/checkpoint-io.js';
import { loadForTraining } from '../../engine/io/train-start.js';
import { generate } from '../../engine/models/generate.js';
import { prepareSftData, samplePrompts, sftConfigSchema, sftTotalSteps, trainSft, type SftConfig, type SftResumeState } from '../../engine/train/sft.js';
import type { JobFn, TrainStageResult } from '../types.js';
import { closeRun, reportLongRecords, markFailed, openRun, startOrResume, trainParamsSchema } from './train-run.js';

export const trainSftParamsSchema = trainParamsSchema;
export type TrainSftParams = z.input<typeof trainSftParamsSchema>;

export type TrainSftResult = TrainStageResult;

export const trainSftJob: JobFn<TrainSftParams, TrainSftResult> = async (rawParams, ctx) => {
  const params = trainSftParamsSchema.parse(rawParams);
  const { project } = ctx;
  const backend = await initBackend();
  ctx.log(`backend: ${backend.name} (${backend.reason})`);

  const start = startOrResume<SftConfig>(project, 'sft', sftConfigSchema, params);
  const { config, parentId } = start;
  let runId = start.runId;
  const startCheckpoint = start.last?.id ?? parentId;
  let resume: { optimizer: NonNullable<LoadedModel['optimizer']>; state: SftResumeState } | undefined;

  // A reward model's backbone is tuned to score, not to write: SFT starts from a language model.
  if (project.checkpoints.get(parentId)?.stage === 'rm') throw new Error(`checkpoint ${parentId} is a reward model; SFT starts from a base, SFT, PPO or DPO checkpoint`);
  // Loaded (and sha256-checked), LoRA settings applied, before a new run row exists, so a bad
  // checkpoint or setting leaves no empty run.
  const loaded = loadForTraining(project, { checkpoint: startCheckpoint, resume: startCheckpoint !== parentId, lora: config, seed: config.seed, reference: false });
  const newRun = { stage: 'sft' as const, name: params.name ?? `SFT from ${loaded.info.name}`, config, parentCheckpointId: parentId, backend: backendLabel(backend) };
  runId ??= project.runs.createRun(newRun);
  const { model, tokenizer } = loaded;
  if (startCheckpoint !== parentId) {
    const state = loaded.info.extra?.resume as SftResumeState | undefined;
    if (!loaded.optimizer || !state) throw new Error(`checkpoint ${startCheckpoint} has no resume state`);
    resume = { optimizer: loaded.optimizer, state };
  }
  const runName = project.runs.get(runId)!.name;
  try {
    const adapterBase = loaded.adapterBase();
    if (model.lora) ctx.log(loaded.describe());
    const data = prepareSftData(project.sft.iterate(), tokenizer, config, model.config.n_positions);
    if (data.skipped > 0) ctx.log(`${data.skipped} SFT examples had nothing to train on and were skipped`);
    // An Instruct model's chat template shapes every example: the log shows how the first one reads.
    if (tokenizer.chat && data.train[0]) ctx.log(`chat template: the first example reads ${JSON.stringify(tokenizer.decode(data.train[0].ids).slice(0, 600))}`);
    const total = sftTotalSteps(config, data.train.length);
    openRun(project, runId, newRun, resume?.state.step ?? 0, total);
    const long = data.long.map((r) => ({ name: r.id === undefined ? 'an SFT example' : `SFT example #${r.id}`, tokens: r.tokens }));
    reportLongRecords(project, ctx, runId, long, data.maxLength, 'the start of their prompt (prompt/completion) or their end (chat and text)');
    const startStep = resume?.state.step ?? 0;
    ctx.progress({ done: startStep, total, unit: 'steps', runId, message: startStep ? `resuming at step ${startStep}` : 'starting' });

    // Small contexts: at most half of it for the answer, the rest for the end of the prompt.
    const sampleTokens = Math.min(config.sample_max_tokens, Math.floor(model.config.n_positions / 2));
    const room = model.config.n_positions - sampleTokens;
    const prompts = samplePrompts(data.eval, config.sample_count).map((p) => p.slice(-room));
    let lastCheckpoint = startCheckpoint;
    let rate = 0;
    const result = await trainSft(
      model,
      data,
      config,
      tokenizer.padId,
      {
        signal: ctx.signal,
        onStep: (step, m) => {
          project.runs.logMetrics(runId, step, m);
          project.runs.setProgress(runId, step);
          // Smoothed throughput for the ETA; single steps are noisy on a shared machine.
          rate = rate === 0 ? m.tokens_per_second! : 0.9 * rate + 0.1 * m.tokens_per_second!;
          const stepsPerSecond = rate / Math.max(1, averageTokens(data.train, config.batch_size));
          ctx.progress({
            runId,
            done: step,
            total,
            unit: 'steps',
            rate: Math.round(rate),
            etaSeconds: Math.round((total - step) / Math.max(stepsPerSecond, 1e-9)),
            message: `loss ${m.loss!.toFixed(3)} · ${Math.round(m.tokens_per_second!)} tokens/s`,
            memoryMb: Math.round(process.memoryUsage().rss / 1e6),
          });
        },
        onEval: (step, m) => {
          project.runs.logMetrics(runId, step, m);
          if (prompts.length === 0) return;
          // What the model answers now, on held-out prompts (greedy-ish, a fixed seed per step).
          const out = generate(model, prompts, {
            maxNewTokens: sampleTokens,
            temperature: 0.7,
            eosId: tokenizer.eosId,
            padId: tokenizer.padId,
            seed: config.seed + step,
          });
          project.runs.addSamples(
            runId,
            step,
            prompts.map((p, i) => ({ prompt: tokenizer.decode(p), response: tokenizer.decode(out.tokens[i]!, { skipSpecial: true }) })),
          );
        },
        onCheckpoint: (step, optimizer, state) => {
          const previous = lastCheckpoint;
          lastCheckpoint = saveModel(project, {
            name: `${runName} · step ${step}`,
            stage: 'sft',
            model,
            tokenizer,
            runId,
            parentId,
            step,
            optimizer,
            extra: { resume: state, metrics: project.runs.lastMetrics(runId) },
            ...(adapterBase !== undefined ? { adapterBase } : {}),
          });
          // Only the newest checkpoint of the run is a resume point: older ones keep just weights.
          if (previous !== parentId) project.checkpoints.dropOptimizer(previous);
        },
      },
      resume,
    );
    return closeRun(project, ctx, runId, result.stopped ? result.step : null, lastCheckpoint);
  } catch (e) {
    markFailed(project, runId, e);
    throw e;
  } finally {
    model.dispose();
  }
};

function averageTokens(train: { ids: number[] }[], batchSize: number): number {
  const n = Math.min(train.length, 256);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += train[i]!.ids.length;
  return (sum / Math.max(n, 1)) * Math.min(batchSize, train.length);
}
