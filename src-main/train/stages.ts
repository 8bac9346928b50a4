// The four training stages as the Train view and the API see them: which job runs each, which
// checkpoints each may start from, and the config form generated from each engine's zod schema
// (so every default the engine uses is the default the form shows).
import { z } from 'zod';
import type { ConfigField, StageInfo } from '../shared/contract.js';
import { sftConfigSchema } from '../engine/train/sft.js';
import { rewardConfigSchema } from '../engine/train/reward.js';
import { dpoConfigSchema } from '../engine/train/dpo.js';
import { ppoRunConfigSchema } from '../jobs/kinds/train-ppo.js';
import { demoSettings } from '../demo/pipeline.js';
import { runStages, type RunStage } from '../shared/vocabulary.js';

interface StageDef {
  label: string;
  schema: z.ZodType;
  from: string[];
  checkpointFields: Record<string, string>;
}

const defs: Record<RunStage, StageDef> = {
  sft: { label: 'SFT', schema: sftConfigSchema, from: ['base', 'sft'], checkpointFields: {} },
  rm: { label: 'Reward model', schema: rewardConfigSchema, from: ['sft', 'base'], checkpointFields: {} },
  ppo: { label: 'PPO', schema: ppoRunConfigSchema, from: ['sft'], checkpointFields: { reward_model: 'rm' } },
  dpo: { label: 'DPO', schema: dpoConfigSchema, from: ['sft'], checkpointFields: {} },
};

export const stages: readonly RunStage[] = runStages;

export function jobKind(stage: RunStage): string {
  return `train-${stage}`;
}

export function stageSchema(stage: RunStage): z.ZodType {
  return defs[stage].schema;
}

type JsonSchema = {
  type?: string | string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
};

// JSON Schema from zod tells the form each field's type, bounds and default; nested objects
// (PPO's health thresholds) become dotted keys.
function fields(schema: JsonSchema, prefix = ''): ConfigField[] {
  const out: ConfigField[] = [];
  for (const [key, raw] of Object.entries(schema.properties ?? {})) {
    const name = prefix + key;
    const nullable = raw.anyOf?.some((s) => s.type === 'null') ?? false;
    const s: JsonSchema = raw.anyOf?.find((x) => x.type !== 'null') ?? raw;
    if (s.type === 'object' && s.properties) {
      out.push(...fields(s, `${name}.`));
      continue;
    }
    const type: ConfigField['type'] = s.enum ? 'enum' : s.type === 'integer' || s.type === 'number' || s.type === 'boolean' ? s.type : 'string';
    const bound = (v: number | undefined) => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);
    out.push({
      key: name,
      type,
      default: raw.default ?? s.default ?? null,
      optional: nullable || !(schema.required ?? []).includes(key),
      minimum: bound(s.minimum),
      maximum: bound(s.maximum),
      exclusiveMinimum: bound(s.exclusiveMinimum),
      options: s.enum?.map(String),
      description: raw.description ?? s.description,
    });
  }
  return out;
}

export function stageInfo(stage: RunStage): StageInfo {
  const d = defs[stage];
  return {
    stage,
    label: d.label,
    from: d.from,
    checkpointFields: d.checkpointFields,
    fields: fields(z.toJSONSchema(d.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema),
    presets: presets(stage),
  };
}

/**
 * "Defaults" clears every field back to the engine's defaults; "Demo-sized" is what the bundled
 * demo runs for the stage (`rlhf-lab demo --quick`, tuned to finish in minutes on 2 CPU cores),
 * less its seed and the checkpoint spacing that only suits a scripted run.
 */
function presets(stage: RunStage): StageInfo['presets'] {
  const out: StageInfo['presets'] = [{ name: 'Defaults', description: "The engine's defaults (TRL's field names; README lists the values)", config: {} }];
  const demo = (demoSettings(true, 0) as unknown as Partial<Record<RunStage, Record<string, unknown>>>)[stage];
  if (demo) {
    const { seed: _seed, checkpoint_every: _every, ...config } = demo;
    out.push({ name: 'Demo-sized', description: 'What `rlhf-lab demo --quick` runs for this stage: minutes on 2 CPU cores', config });
  }
  return out;
}
