// LoRA adapters as PEFT folders: adapter_config.json (peft_type LORA, r, lora_alpha, lora_dropout,
// target_modules, base_model_name_or_path) and adapter_model.safetensors with tensors named
// `base_model.model.<module path>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r], the module
// path being the Hugging Face one (GPT-2's under `transformer.`). What PEFT's save_pretrained
// writes and from_pretrained reads for a plain LoRA (no rsLoRA, DoRA, trained biases or extra modules).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLlamaConfig, type ModelConfig } from '../models/model.js';
import { loraConfigSchema, type LoraConfig } from '../models/lora.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';

/** What precedes a module's own path in PEFT's tensor names for this family. */
function peftPrefix(config: ModelConfig): string {
  return isLlamaConfig(config) ? 'base_model.model.' : 'base_model.model.transformer.';
}

export interface PeftAdapter {
  config: LoraConfig;
  /** Keyed as models/lora.ts keys them: `<module path>.lora_A.weight` / `.lora_B.weight`. */
  weights: Record<string, Float32Array>;
  /** base_model_name_or_path as the folder gives it. */
  base: string | null;
}

/** Reads a PEFT LoRA folder for a model of `modelConfig`'s family; unsupported variants are refused by name. */
export function readPeftAdapter(dir: string, modelConfig: ModelConfig): PeftAdapter {
  const cfgPath = join(dir, 'adapter_config.json');
  if (!existsSync(cfgPath)) throw new Error(`${dir}: no adapter_config.json (not a PEFT adapter folder)`);
  const raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  if (raw.peft_type !== 'LORA') throw new Error(`${cfgPath}: peft_type ${JSON.stringify(raw.peft_type)} is not supported (LORA is)`);
  const unsupported: string[] = [];
  if (raw.use_rslora === true) unsupported.push('use_rslora');
  if (raw.use_dora === true) unsupported.push('use_dora');
  if (raw.bias !== undefined && raw.bias !== 'none') unsupported.push(`bias "${String(raw.bias)}"`);
  if (Array.isArray(raw.modules_to_save) && raw.modules_to_save.length > 0) unsupported.push('modules_to_save');
  if (!Array.isArray(raw.target_modules)) unsupported.push('target_modules that are not a list of names');
  if (raw.rank_pattern && Object.keys(raw.rank_pattern as object).length > 0) unsupported.push('rank_pattern');
  if (raw.alpha_pattern && Object.keys(raw.alpha_pattern as object).length > 0) unsupported.push('alpha_pattern');
  if (unsupported.length) throw new Error(`${cfgPath}: unsupported ${unsupported.join(', ')}`);
  const parsed = loraConfigSchema.safeParse({ r: raw.r, alpha: raw.lora_alpha, dropout: raw.lora_dropout ?? 0, targets: raw.target_modules });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${cfgPath}: ${i.path.join('.')}: ${i.message}`);
  }
  const stPath = join(dir, 'adapter_model.safetensors');
  if (!existsSync(stPath)) throw new Error(`${dir}: no adapter_model.safetensors (adapter_model.bin, a pickle, is not read)`);
  const { tensors } = readSafetensors(readFileSync(stPath));
  const prefix = peftPrefix(modelConfig);
  const weights: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!name.startsWith(prefix)) throw new Error(`${stPath}: tensor ${name} is not under ${prefix} (an adapter for another model family?)`);
    weights[name.slice(prefix.length)] = t.data;
  }
  return { config: parsed.data, weights, base: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : null };
}

/** Writes a PEFT LoRA folder; `shapes` are the adapter tensors' shapes by their models/lora.ts key. */
export function writePeftAdapter(dir: string, modelConfig: ModelConfig, adapter: PeftAdapter, shapes: Record<string, number[]>): void {
  const prefix = peftPrefix(modelConfig);
  const tensors: Record<string, Tensor> = {};
  for (const [key, data] of Object.entries(adapter.weights)) {
    const shape = shapes[key];
    if (!shape) throw new Error(`no shape for adapter tensor ${key}`);
    tensors[prefix + key] = { shape, data };
  }
  const bytes = writeSafetensors(tensors, { format: 'pt' });
  const c = adapter.config;
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: adapter.base,
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: c.targets,
    bias: 'none',
    // GPT-2's Conv1D stores W as [in, out]; PEFT marks such modules fan_in_fan_out.
    fan_in_fan_out: !isLlamaConfig(modelConfig),
    inference_mode: true,
    use_rslora: false,
    modules_to_save: null,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_model.safetensors'), bytes);
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2) + '\n');
}
