// Model jobs that read or write whole weight files (a GPT-2 import is hundreds of MB) or train a
// tokenizer on the whole project: run in the engine worker so the window never stalls.
import { z } from 'zod';
import { initBackend } from '../../engine/backend/backend.js';
import { importModelSource } from '../../engine/io/hf.js';
import { exportCheckpoint, importWithAdapter } from '../../engine/io/adapter-io.js';
import { createNewModel, newModelSchema, type NewModelOptions } from '../../engine/io/new-model.js';
import type { JobFn } from '../types.js';

export const newModelJob: JobFn<NewModelOptions, { checkpoint: number; vocab_size: number; parameters: number }> = async (params, ctx) => {
  const options = newModelSchema.parse(params);
  await initBackend();
  ctx.progress({ done: 0, total: 1, unit: 'models', message: 'training the tokenizer on the project’s texts' });
  const r = createNewModel(ctx.project, options);
  return { checkpoint: r.checkpoint, vocab_size: r.vocabSize, parameters: r.parameters };
};

const importParams = z.object({ folder: z.string().min(1), name: z.string().min(1).optional(), adapter: z.string().min(1).optional() }).strict();

/** The imported checkpoint; with an adapter, the adapter's checkpoint and the base it sits on. */
export const importModelJob: JobFn<z.input<typeof importParams>, { checkpoint: number; base?: number }> = async (params, ctx) => {
  const p = importParams.parse(params);
  await initBackend();
  if (p.adapter) {
    // Base and adapter are read and fitted together first: a misfit fails the job, storing nothing.
    ctx.progress({ done: 0, total: 1, unit: 'models', message: `reading ${p.folder} and the adapter ${p.adapter}` });
    let ids: { base: number; adapter: number };
    try {
      ids = importWithAdapter(ctx.project, p.folder, p.adapter, p.name);
    } catch (e) {
      throw new Error(`Nothing was imported: ${(e as Error).message}`);
    }
    ctx.log(`imported ${p.folder} as checkpoint ${ids.base} and its LoRA adapter ${p.adapter} as checkpoint ${ids.adapter}`);
    return { checkpoint: ids.adapter, base: ids.base };
  }
  ctx.progress({ done: 0, total: 1, unit: 'models', message: `reading ${p.folder}` });
  // Two phases, each with its own bar: bytes while downloading, then tensors while converting.
  const r = await importModelSource(ctx.project, p.folder, {
    ...(p.name ? { name: p.name } : {}),
    onProgress: (h) => ctx.progress({ done: h.done, total: h.total, unit: 'bytes', message: `downloading ${h.file}` }),
    onTensor: (done, total) => ctx.progress({ done, total, unit: 'tensors', message: 'converting the weights to float32' }),
  });
  ctx.log(`imported ${p.folder} as checkpoint ${r.checkpoint}${r.fromCache ? ' (from the Hugging Face cache, nothing downloaded)' : ''}`);
  return { checkpoint: r.checkpoint };
};

const exportParams = z.object({ checkpoint: z.number().int().positive(), folder: z.string().min(1), merged: z.boolean().default(false) }).strict();

export const exportModelJob: JobFn<z.input<typeof exportParams>, { folder: string; files: string[] }> = async (params, ctx) => {
  const p = exportParams.parse(params);
  ctx.progress({ done: 0, total: 1, unit: 'models', message: `writing ${p.folder}` });
  await initBackend();
  // A LoRA checkpoint leaves as a PEFT adapter folder (or, merged, a full model).
  const files = exportCheckpoint(ctx.project, p.checkpoint, p.folder, { merged: p.merged });
  return { folder: p.folder, files };
};
