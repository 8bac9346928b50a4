// models.*: the project's checkpoints with lineage, delete, the models in the local Hugging Face
// cache, and — as jobs in the engine worker — new/import/export and the playground's sampling
// (its text streams through job.progress).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckpointRow } from '../../shared/contract.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { initBackend } from '../../engine/backend/backend.js';
import { listCachedModels } from '../../engine/io/hf-cache.js';
import { modelConfigOf } from '../../engine/io/checkpoint-io.js';
import { modelParameterShapes } from '../../engine/models/model.js';
import type { CheckpointInfo } from '../../shared/records.js';
import { UserError } from '../../shared/errors.js';

/** Managing models is for the person at the machine, never a LAN annotator. */
function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can manage models.', 'forbidden');
}

/** Parameter count of any family, from its config; 0 when the config cannot be read. */
function parameterCount(config: Record<string, unknown>): number {
  try {
    return modelParameterShapes(modelConfigOf(config)).reduce((a, [, shape]) => a + shape.reduce((x, y) => x * y, 1), 0);
  } catch {
    return 0;
  }
}

/** The adapter a checkpoint's metadata records (none exists until the engine trains LoRA). */
function adapterOf(extra: Record<string, unknown> | null): CheckpointRow['adapter'] {
  const a = extra?.adapter;
  return a && typeof a === 'object' ? (a as NonNullable<CheckpointRow['adapter']>) : null;
}

function importedFrom(c: CheckpointInfo | undefined): string | null {
  return typeof c?.extra?.imported_from === 'string' ? c.extra.imported_from : null;
}

function toRow(c: CheckpointInfo, byId: Map<number, CheckpointInfo>): CheckpointRow {
  const config = (c.model_config ?? {}) as Record<string, unknown>;
  const root = byId.get(c.lineage.at(-1) ?? c.id) ?? c;
  return {
    id: c.id,
    name: c.name,
    stage: c.stage,
    parent_id: c.parent_id,
    lineage: c.lineage,
    run_id: c.run_id,
    step: c.step,
    created_at: c.created_at,
    model_config: config,
    family: config.family === 'llama' ? String(config.model_type ?? 'llama') : 'gpt2',
    parameters: parameterCount(config),
    weights_bytes: c.weights_bytes,
    source_dtype: typeof c.extra?.source_dtype === 'string' ? c.extra.source_dtype : null,
    adapter: adapterOf(c.extra),
    base: { id: root.id, name: root.name, imported_from: importedFrom(root) },
    has_optimizer: c.has_optimizer,
    metrics: (c.extra?.metrics as Record<string, number> | undefined) ?? {},
  };
}

export const modelsHandlers: Partial<Handlers<ApiContext>> = {
  'models.list': async (_input, ctx) => {
    const all = ctx.app.project().checkpoints.list();
    const byId = new Map(all.map((c) => [c.id, c]));
    const checkpoints = all.map((c) => toRow(c, byId));
    // The same selection the engine worker makes, so the view names the backend runs will use.
    const b = await initBackend();
    return { checkpoints, backend: { name: b.name, reason: b.reason } };
  },

  'models.cached': async (_input, ctx) => {
    requireLocal(ctx);
    return listCachedModels();
  },

  'models.new': (input, ctx) => {
    requireLocal(ctx);
    if (input.n_embd % input.n_head !== 0) throw new UserError('n_embd must be divisible by n_head.', 'invalid_input');
    return ctx.app.startJob('new-model', input, `New model ${input.n_layer}L-${input.n_embd}d`);
  },

  'models.import': ({ folder, name, adapter }, ctx) => {
    requireLocal(ctx);
    // With an adapter, the base must be read and the adapter fitted to it before anything is stored
    // (engine/io/adapter-io.ts importWithAdapter): a local folder, as `model import --adapter`.
    const peft = adapter === undefined ? undefined : resolve(adapter);
    if (peft !== undefined) {
      if (folder.startsWith('hf:')) throw new UserError('A LoRA adapter can be imported on a base from a local folder only: import the base, or choose its folder in the Hugging Face cache.', 'invalid_input');
      if (!existsSync(join(peft, 'adapter_config.json'))) throw new UserError(`No PEFT adapter folder at ${peft} (adapter_config.json is missing).`, 'not_found');
    }
    // A Hub id (hf:OWNER/NAME[@revision]) is downloaded into the Hugging Face cache by the job.
    if (folder.startsWith('hf:')) return ctx.app.startJob('import-model', { folder, ...(name ? { name } : {}) }, `Import ${folder}`);
    const abs = resolve(folder);
    if (!existsSync(join(abs, 'config.json'))) throw new UserError(`No Hugging Face model folder at ${abs} (config.json is missing).`, 'not_found');
    return ctx.app.startJob('import-model', { folder: abs, ...(name ? { name } : {}), ...(peft ? { adapter: peft } : {}) }, peft ? `Import ${abs} with the adapter ${peft}` : `Import ${abs}`);
  },

  'models.export': ({ checkpoint, folder, merged }, ctx) => {
    requireLocal(ctx);
    if (!ctx.app.project().checkpoints.get(checkpoint)) throw new UserError(`No checkpoint with id ${checkpoint}.`, 'not_found');
    return ctx.app.startJob('export-model', { checkpoint, folder: resolve(folder), ...(merged ? { merged } : {}) }, `Export checkpoint ${checkpoint}`);
  },

  'models.delete': ({ checkpoint }, ctx) => {
    requireLocal(ctx);
    const repo = ctx.app.project().checkpoints;
    const all = repo.list();
    const children = all.filter((c) => c.parent_id === checkpoint);
    // Deleting a parent would cut its descendants' lineage.
    if (children.length > 0) {
      throw new UserError(`Checkpoint ${checkpoint} is the parent of ${children.map((c) => c.id).join(', ')}; delete those first.`, 'conflict');
    }
    // An adapter's base need not be its parent (a LoRA run from a LoRA checkpoint stores a merged base): its weights are theirs.
    const adapters = all.filter((c) => (c.extra?.adapter as { base?: unknown } | undefined)?.base === checkpoint);
    if (adapters.length > 0) {
      throw new UserError(`Checkpoint ${checkpoint} holds the base weights of the LoRA adapters ${adapters.map((c) => c.id).join(', ')}; delete those first.`, 'conflict');
    }
    const deleted = repo.delete(checkpoint);
    if (deleted) ctx.app.emit('data.changed', { kinds: ['checkpoints'] });
    return { deleted };
  },

  'models.generate': ({ checkpoint, prompt, ...settings }, ctx) => {
    requireLocal(ctx);
    const info = ctx.app.project().checkpoints.get(checkpoint);
    if (!info) throw new UserError(`No checkpoint with id ${checkpoint}.`, 'not_found');
    return ctx.app.startJob('generate', { checkpoint, prompt, settings }, `Generate from ${info.name}`);
  },
};
