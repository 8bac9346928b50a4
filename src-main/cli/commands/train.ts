// `train <stage> <project> --from <checkpoint> [--config file.json] [--set key=value …]` and
// `train <stage> <project> --resume <run>`: one stage run to the end, checkpointing as it goes.
// Stages are a map so each stage's engineer adds one entry: its job kind and config schema.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { backendInfo, backendJson } from '../../engine/backend/backend.js';
import { sftConfigSchema } from '../../engine/train/sft.js';
import { rewardConfigSchema } from '../../engine/train/reward.js';
import { dpoConfigSchema } from '../../engine/train/dpo.js';
import { ppoRunConfigSchema } from '../../jobs/kinds/train-ppo.js';
import { runJobInProcess } from '../../jobs/run-in-process.js';
import { JobCancelled, InputError } from '../../shared/errors.js';
import type { Command } from '../command.js';
import { checkpointArg, openProject, parseFlags, positiveInt } from '../engine-args.js';

export interface TrainStage {
  /** Job kind in jobs/registry.ts; it takes { from?, resume?, config, name?, …flags } and returns { run, checkpoint, metrics }. */
  job: string;
  /** The stage's strict config schema: --config and --set are validated against it before the job starts. */
  configSchema: z.ZodType;
  /** Extra checkpoint flags of the stage, e.g. PPO's `--rm <checkpoint>` → params.rm. */
  checkpointFlags?: string[];
}

export const trainStages: Record<string, TrainStage> = {
  sft: { job: 'train-sft', configSchema: sftConfigSchema },
  rm: { job: 'train-rm', configSchema: rewardConfigSchema },
  ppo: { job: 'train-ppo', configSchema: ppoRunConfigSchema },
  dpo: { job: 'train-dpo', configSchema: dpoConfigSchema },
};

const USAGE =
  'train <stage> <project> --from <checkpoint> [--config file.json] [--set key=value …] [--name NAME] [--json]\n' +
  '       train <stage> <project> --resume <run> [--json]';

/** 1-based line of character `pos` in `text`. */
function lineAt(text: string, pos: number): number {
  return text.slice(0, pos).split('\n').length;
}

/** The --config file and --set overrides, merged and checked against the stage's schema. */
export function resolveConfig(stage: TrainStage, file: string | undefined, sets: string[]): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  let text = '';
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InputError(`${file}: ${(e as Error).message}`);
    }
    try {
      config = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      const m = /position (\d+)/.exec((e as Error).message);
      throw new InputError(`${file}:${m ? lineAt(text, Number(m[1])) : 1}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new InputError(`${file}:1: the config must be a JSON object`);
  }
  const fromSet = new Set<string>();
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new InputError(`--set ${s}: expected key=value`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: the value is the string itself (e.g. --set combine=majority).
    }
    config[key] = value;
    fromSet.add(key);
  }
  const parsed = stage.configSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      // Unknown keys are reported by zod at the object level with their names in `keys`.
      const keys = (i as { keys?: string[] }).keys;
      const field = String(keys?.[0] ?? i.path[0] ?? '');
      if (fromSet.has(field)) return `--set ${field}: ${i.message}`;
      if (file) {
        const pos = text.indexOf(`"${field}"`);
        return `${file}:${pos >= 0 ? lineAt(text, pos) : 1}: field "${field}": ${i.message}`;
      }
      return `field "${field}": ${i.message}`;
    });
    throw new InputError(problems.join('\n'));
  }
  return config;
}

export const trainCommand: Command = {
  name: 'train',
  usage: USAGE,
  summary: `run a training stage (${Object.keys(trainStages).join(', ')}) to the end, or resume an interrupted run`,
  async run(argv, io) {
    const stageName = argv[0] ?? '';
    const stage = trainStages[stageName];
    if (!stage) throw new InputError(`train: unknown stage "${stageName}" (one of ${Object.keys(trainStages).join(', ')})\nusage: rlhf-lab ${USAGE}`);
    const extra = Object.fromEntries((stage.checkpointFlags ?? []).map((f) => [f, { type: 'string' as const }]));
    const { values, positionals } = parseFlags(`train ${stageName}`, USAGE, argv.slice(1), {
      from: { type: 'string' },
      resume: { type: 'string' },
      config: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
      ...extra,
    });
    if (positionals.length !== 1) throw new InputError(`train ${stageName}: expected one project file\nusage: rlhf-lab ${USAGE}`);
    if ((values.from === undefined) === (values.resume === undefined)) throw new InputError(`train ${stageName}: give either --from <checkpoint> or --resume <run>`);
    if (values.resume !== undefined && (values.config !== undefined || (values.set as string[]).length > 0)) {
      throw new InputError(`train ${stageName}: --config and --set do not apply to --resume (a resumed run keeps its own config)`);
    }
    const config = values.resume === undefined ? resolveConfig(stage, values.config as string | undefined, values.set as string[]) : {};
    const project = openProject(positionals[0]!);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const params: Record<string, unknown> = { config };
      if (values.from !== undefined) params.from = checkpointArg(project, values.from as string, '--from');
      if (values.resume !== undefined) {
        const run = project.runs.get(positiveInt(values.resume as string, '--resume'));
        if (!run || run.stage !== stageName) throw new InputError(`${project.path}: run ${values.resume} is not a ${stageName} run`);
        params.resume = run.id;
      }
      if (values.name !== undefined) params.name = values.name;
      for (const f of stage.checkpointFlags ?? []) {
        const flag = (values as Record<string, unknown>)[f];
        if (flag !== undefined) params[f] = checkpointArg(project, flag as string, `--${f}`);
      }
      const result = await runJobInProcess<{ run: number; checkpoint: number; metrics: Record<string, number> }>(
        stage.job,
        params,
        project,
        (p) => io.progress(p.done, p.total, p.unit, p.message),
        { signal: controller.signal, log: (m) => io.err(m) },
      );
      const metrics = Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [k, Number(v.toPrecision(6))]));
      io.out(
        { run: result.run, checkpoint: result.checkpoint, metrics, ...backendJson(backendInfo()) },
        `run ${result.run} completed → checkpoint ${result.checkpoint}\n` +
          Object.entries(metrics)
            .map(([k, v]) => `  ${k}: ${v}`)
            .join('\n'),
      );
      return 0;
    } catch (e) {
      if (e instanceof JobCancelled) {
        io.err('stopped (the run is resumable with --resume)');
        return 1;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
      project.close();
    }
  },
};
