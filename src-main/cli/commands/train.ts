// `train <stage> <project> --from <checkpoint> [--config file.json] [--set key=value …]` and
// `train <stage> <project> --resume <run>`: one stage run to the end, checkpointing as it goes.
// The stages, their config schemas and their jobs come from the stage catalogue (train/stages.ts).
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { backendInfo, backendJson } from '../../engine/backend/backend.js';
import { runJobInProcess } from '../../jobs/run-in-process.js';
import { JobCancelled, InputError } from '../../shared/errors.js';
import { findStage, jobKind, stageInfo, stageSchema, stages } from '../../train/stages.js';
import type { Command } from '../command.js';
import { checkpointArg, openProject, parseFlags, positiveInt } from '../engine-args.js';

/** What the command needs of a stage: its config schema, to check --config and --set before the job starts. */
export interface TrainStage {
  configSchema: z.ZodType;
}

const USAGE =
  'train <stage> <project> --from <checkpoint> [--config file.json] [--set key=value …] [--name NAME] [--json]\n' +
  '       [--lora-r R --lora-alpha A --lora-targets q_proj,v_proj --lora-dropout P]   (LoRA adapters, every stage)\n' +
  '       train <stage> <project> --resume <run> [--json]\n' +
  '       train <stage> --fields [--json]      (the config fields of the stage, with their defaults)'

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

/** --lora-r and friends as the --set entries of the stage's lora_* fields; refused where the stage has none. */
function loraFlagSets(stage: Parameters<typeof stageInfo>[0], values: Record<string, unknown>): string[] {
  const flags = { 'lora-r': 'lora_r', 'lora-alpha': 'lora_alpha', 'lora-targets': 'lora_targets', 'lora-dropout': 'lora_dropout' } as const;
  const given = Object.entries(flags).filter(([flag]) => values[flag] !== undefined);
  if (given.length === 0) return [];
  if (!stageInfo(stage).fields.some((f) => f.key === 'lora_r')) {
    throw new InputError(`train ${stage}: this stage has no LoRA fields`);
  }
  // Targets stay a string even when they look like JSON (a single name such as "c_attn" does not).
  return given.map(([flag, key]) => `${key}=${key === 'lora_targets' ? JSON.stringify(values[flag]) : String(values[flag])}`);
}

export const trainCommand: Command = {
  name: 'train',
  usage: USAGE,
  summary: `run a training stage (${stages.join(', ')}) to the end, or resume an interrupted run`,
  async run(argv, io) {
    const stageName = argv[0] ?? '';
    const found = findStage(stageName);
    if (!found) throw new InputError(`train: unknown stage "${stageName}" (one of ${stages.join(', ')})\nusage: rlhf-lab ${USAGE}`);
    const stage: TrainStage = { configSchema: stageSchema(found) };
    const { values, positionals } = parseFlags(`train ${stageName}`, USAGE, argv.slice(1), {
      from: { type: 'string' },
      resume: { type: 'string' },
      config: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
      fields: { type: 'boolean' },
      'lora-r': { type: 'string' },
      'lora-alpha': { type: 'string' },
      'lora-targets': { type: 'string' },
      'lora-dropout': { type: 'string' },
    });
    if (values.fields) {
      const fields = stageInfo(found).fields;
      io.out(
        { stage: found, fields: fields.map((f) => ({ key: f.key, type: f.type, default: f.default, options: f.options, label: f.label, help: f.help })) },
        fields.map((f) => `  ${f.key} = ${JSON.stringify(f.default)}${f.options ? `  (${f.options.join('|')})` : ''}\n      ${f.label}: ${f.help}`).join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 1) throw new InputError(`train ${stageName}: expected one project file\nusage: rlhf-lab ${USAGE}`);
    if ((values.from === undefined) === (values.resume === undefined)) throw new InputError(`train ${stageName}: give either --from <checkpoint> or --resume <run>`);
    if (values.resume !== undefined && (values.config !== undefined || (values.set as string[]).length > 0)) {
      throw new InputError(`train ${stageName}: --config and --set do not apply to --resume (a resumed run keeps its own config)`);
    }
    const loraSets = loraFlagSets(found, values as Record<string, unknown>);
    if (values.resume !== undefined && loraSets.length > 0) throw new InputError(`train ${stageName}: the --lora-* flags do not apply to --resume (a resumed run keeps its own config)`);
    const config = values.resume === undefined ? resolveConfig(stage, values.config as string | undefined, [...(values.set as string[]), ...loraSets]) : {};
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
      const result = await runJobInProcess<{ run: number; checkpoint: number; metrics: Record<string, number> }>(
        jobKind(found),
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
