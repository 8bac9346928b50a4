// LoRA adapter checkpoints in and out as PEFT folders (peft.ts): `model export` of an adapter
// checkpoint writes adapter_config.json + adapter_model.safetensors (or, merged, a full Hugging
// Face folder), and `model import DIR --adapter ADAPTER_DIR` stores a base and the adapter on it.
import { basename, resolve } from 'node:path';
import { adapterOf, loadModel, saveModel, type ModelStore } from './checkpoint-io.js';
import { readHfFolder, saveHfModel, writeHfFolder } from './hf.js';
import { GPT } from '../models/model.js';
import { readPeftAdapter, writePeftAdapter } from './peft.js';

/** What a PEFT folder names as its base: the folder or Hub id the base checkpoint came from, else its name. */
function baseModelName(project: ModelStore, baseId: number): string {
  const base = project.checkpoints.load(baseId);
  const from = base.extra?.imported_from;
  if (typeof from === 'string') return from.startsWith('hf:') ? from.slice(3).replace(/@.*$/, '') : from;
  return base.name;
}

/**
 * Exports a checkpoint: an adapter checkpoint as a PEFT folder, or with `merged` as a full model
 * (W + (alpha/r)·(B·A)ᵀ); any other checkpoint as a Hugging Face folder. Returns the files written.
 */
export function exportCheckpoint(project: ModelStore, checkpointId: number, dir: string, opts: { merged?: boolean } = {}): string[] {
  const loaded = loadModel(project, checkpointId, 0, { adapter: 'attach' });
  const { model, tokenizer, config } = loaded;
  try {
    const adapter = adapterOf(loaded.info);
    const lora = model.lora;
    if (!adapter || !lora || opts.merged) {
      writeHfFolder(dir, config, lora ? lora.merge(model.getWeights()) : model.getWeights(), tokenizer);
      return ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'];
    }
    const shapes = Object.fromEntries(Object.entries(lora.namedVariables()).map(([k, v]) => [k, v.shape]));
    writePeftAdapter(dir, config, { config: lora.config, weights: lora.getWeights(), base: baseModelName(project, adapter.base) }, shapes);
    return ['adapter_config.json', 'adapter_model.safetensors'];
  } finally {
    model.dispose();
  }
}

/**
 * Imports a Hugging Face folder as a base checkpoint and a PEFT LoRA folder as an adapter
 * checkpoint on it (stage sft, its parent the base). The adapter is attached to the base before
 * anything is stored, so one that does not fit the base leaves no checkpoint behind.
 */
export function importWithAdapter(project: ModelStore, dir: string, adapterDir: string, name?: string): { base: number; adapter: number } {
  const hf = readHfFolder(dir);
  const peft = readPeftAdapter(adapterDir, hf.config);
  const model = GPT.fromWeights(hf.config, hf.weights);
  try {
    model.loadLora(peft.config, peft.weights);
    const base = saveHfModel(project, hf, dir, name);
    const adapter = saveModel(project, {
      name: `${name ?? basename(resolve(dir))} + ${basename(resolve(adapterDir))}`,
      stage: 'sft',
      model,
      tokenizer: hf.tokenizer,
      parentId: base,
      adapterBase: base,
      extra: { imported_from: resolve(adapterDir) },
    });
    return { base, adapter };
  } finally {
    model.dispose();
  }
}
