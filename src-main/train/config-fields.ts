// A stage's config form, generated from its engine's zod schema (so every default the engine uses
// is the default the form shows) and presented by its catalogue entry (stages.ts): each field's
// label, one line of help and its group. A field the entry does not describe falls back to the
// labels every stage shares below, then to its key and the schema's description, in "Advanced".
import { z } from 'zod';
import type { ConfigField, FieldGroup } from '../shared/contract.js';

export interface FieldInfo {
  label: string;
  help: string;
  group: FieldGroup;
}

export const field = (label: string, help: string, group: FieldGroup): FieldInfo => ({ label, help, group });

/** Fields several stages have, presented the same way wherever they appear. */
const common: Record<string, FieldInfo> = {
  seed: field('Seed', 'Fixes initialisation, data order and sampling: same seed, same run.', 'advanced'),
  epochs: field('Epochs', 'Passes over the training data.', 'essentials'),
  batch_size: field('Batch size', 'Examples per optimizer step.', 'essentials'),
  lr: field('Learning rate', 'Peak step size, reached after warmup.', 'essentials'),
  warmup_steps: field('Warmup steps', 'Steps over which the learning rate rises from 0.', 'advanced'),
  weight_decay: field('Weight decay', "AdamW's decoupled weight decay.", 'advanced'),
  grad_clip: field('Gradient clip', 'Gradients are scaled down to this global norm.', 'advanced'),
  eval_fraction: field('Held-out share', 'Share held out for evaluation when nothing is marked eval.', 'stage'),
  eval_every: field('Evaluate every', 'Steps between held-out evaluations.', 'stage'),
  checkpoint_every: field('Checkpoint every', 'Steps between resumable checkpoints.', 'stage'),
  combine: field('Combine votes', "How several annotators' votes on one item count: all, majority, or per annotator.", 'stage'),
  include_compare_votes: field('Learn from Compare votes', "Also train on Compare's blind votes (they judge the models under evaluation).", 'stage'),
};

/** The LoRA fields (engine/models/lora.ts loraRunFields), the form's "LoRA" group on every stage that has them. */
export const loraFields: Record<string, FieldInfo> = {
  lora_r: field('LoRA rank', 'Train low-rank adapters of this rank instead of every weight; 0 trains every weight.', 'lora'),
  lora_alpha: field('LoRA alpha', "The adapters' update is scaled by alpha / rank.", 'lora'),
  lora_dropout: field('LoRA dropout', "Dropout on the adapters' input while training.", 'lora'),
  lora_targets: field('LoRA modules', 'Comma-separated module names (q_proj,v_proj …; GPT-2: c_attn, c_proj, c_fc); empty: q_proj,v_proj, or c_attn on GPT-2.', 'lora'),
};

/** The sampling and bookkeeping fields of the RL stages (PPO, RLOO, GRPO), presented alike. */
export const rlFields: Record<string, FieldInfo> = {
  reward_model: field('Reward model', 'The reward-model checkpoint the policy learns to maximise.', 'essentials'),
  max_new_tokens: field('Answer length', 'Most tokens sampled per answer.', 'stage'),
  temperature: field('Sampling temperature', 'Temperature of the answers the policy learns from.', 'stage'),
  missing_eos_penalty: field('Missing-end penalty', 'Subtracted from the score of an answer that never ends.', 'stage'),
  top_k: field('Top-k', 'Sample among the k likeliest tokens; 0 turns it off.', 'advanced'),
  top_p: field('Top-p', 'Sample among the likeliest tokens covering this probability; 1 turns it off.', 'advanced'),
  sample_every: field('Samples every', 'Iterations between stored sample tables.', 'advanced'),
  sample_rows: field('Sample rows', 'Answers kept per sample table.', 'advanced'),
  checkpoint_every: field('Checkpoint every', 'Iterations between resumable checkpoints.', 'advanced'),
};

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
function fields(schema: JsonSchema, present: (key: string, description?: string) => FieldInfo, prefix = ''): ConfigField[] {
  const out: ConfigField[] = [];
  for (const [key, raw] of Object.entries(schema.properties ?? {})) {
    const name = prefix + key;
    const nullable = raw.anyOf?.some((s) => s.type === 'null') ?? false;
    const s: JsonSchema = raw.anyOf?.find((x) => x.type !== 'null') ?? raw;
    if (s.type === 'object' && s.properties) {
      out.push(...fields(s, present, `${name}.`));
      continue;
    }
    const type: ConfigField['type'] = s.enum ? 'enum' : s.type === 'integer' || s.type === 'number' || s.type === 'boolean' ? s.type : 'string';
    const bound = (v: number | undefined) => (v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : undefined);
    const description = raw.description ?? s.description;
    out.push({
      key: name,
      type,
      default: raw.default ?? s.default ?? null,
      optional: nullable || !(schema.required ?? []).includes(key),
      minimum: bound(s.minimum),
      maximum: bound(s.maximum),
      exclusiveMinimum: bound(s.exclusiveMinimum),
      options: s.enum?.map(String),
      description,
      ...present(name, description),
    });
  }
  return out;
}

/** The form's fields of a config schema, presented by `own` (the stage's entry), then the common table. */
export function configFields(schema: z.ZodType, own: Record<string, FieldInfo>): ConfigField[] {
  const present = (key: string, description?: string): FieldInfo =>
    own[key] ?? common[key] ?? { label: key, help: description ?? '', group: 'advanced' };
  return fields(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema, present);
}
