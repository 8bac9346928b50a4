// LoRA adapter checkpoints in and out as PEFT folders (peft.ts): `model export` of an adapter
// checkpoint writes adapter_config.json + adapter_model.safetensors (or, merged, a full Hugging
// Face folder), and `model import BASE --adapter ADAPTER` stores a base and the adapter on it,
// each a folder or `hf:OWNER/NAME[@revision]` (downloaded into, or found in, the Hugging Face cache).
import { basename, resolve } from 'node:path';
import { adapterOf, loadModel, saveModel, type ModelStore } from './checkpoint-io.js';
import { readHfFolder, saveHfModel, writeHfFolder } from './hf.js';
import { downloadHubModel, HF_PREFIX, parseHubId, type HubDownloadOptions } from './hf-hub.js';
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
export function importWithAdapter(
  project: ModelStore,
  dir: string,
  adapterDir: string,
  name?: string,
  /** Where each folder came from when it is a Hub snapshot: `hf:OWNER/NAME@commit`. */
  from: { base?: string; adapter?: string } = {},
): { base: number; adapter: number } {
  const hf = readHfFolder(dir);
  const peft = readPeftAdapter(adapterDir, hf.config);
  const model = GPT.fromWeights(hf.config, hf.weights);
  // A Hub snapshot's folder is named by its commit: its repo name is the readable one.
  const label = (folder: string, source: string | undefined) => (source ? parseHubId(source).repo : basename(resolve(folder)));
  try {
    model.loadLora(peft.config, peft.weights);
    const base = saveHfModel(project, hf, dir, name ?? (from.base ? label(dir, from.base) : undefined), from.base);
    const adapter = saveModel(project, {
      name: `${name ?? label(dir, from.base)} + ${label(adapterDir, from.adapter)}`,
      stage: 'sft',
      model,
      tokenizer: hf.tokenizer,
      parentId: base,
      adapterBase: base,
      extra: { imported_from: from.adapter ?? resolve(adapterDir) },
    });
    return { base, adapter };
  } finally {
    model.dispose();
  }
}

/** A Hub download's folder and what it cost, for the import's message. */
export interface FetchedSource {
  folder: string;
  /** `hf:OWNER/NAME@commit` for a Hub source; absent for a local folder. */
  from?: string;
  downloaded: number;
  fromCache: boolean;
}

async function fetchSource(source: string, kind: 'model' | 'adapter', opts: HubDownloadOptions): Promise<FetchedSource> {
  if (!source.startsWith(HF_PREFIX)) return { folder: resolve(source), downloaded: 0, fromCache: true };
  const snap = await downloadHubModel(source, { ...opts, kind });
  return { folder: snap.folder, from: `hf:${parseHubId(source).repo}@${snap.commit}`, downloaded: snap.downloaded, fromCache: snap.fromCache };
}

/**
 * importWithAdapter for a base and an adapter that are each a folder or `hf:OWNER/NAME[@rev]`.
 * The adapter (small) is fetched first, so an adapter the Hub does not have fails before the base
 * is downloaded; nothing is stored until both are read and the adapter fits the base.
 */
export async function importSourceWithAdapter(
  project: ModelStore,
  source: string,
  adapterSource: string,
  opts: HubDownloadOptions & { name?: string } = {},
): Promise<{ base: number; adapter: number; sources: { base: FetchedSource; adapter: FetchedSource } }> {
  const { name, ...hub } = opts;
  const adapter = await fetchSource(adapterSource, 'adapter', hub);
  const base = await fetchSource(source, 'model', hub);
  const ids = importWithAdapter(project, base.folder, adapter.folder, name, {
    ...(base.from ? { base: base.from } : {}),
    ...(adapter.from ? { adapter: adapter.from } : {}),
  });
  return { ...ids, sources: { base, adapter } };
}
