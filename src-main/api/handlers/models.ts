// models.*: the project's checkpoints with lineage, new/import/export/delete, and the playground's
// sampling (a `generate` job in the engine worker that streams text through job.progress).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CheckpointRow } from '../contract.js';
import type { ApiContext } from '../context.js';
import { type Handlers, UserError } from '../router.js';
import { initBackend } from '../../engine/backend.js';
import { exportHfModel, importHfModel } from '../../engine/hf.js';
import { createNewModel } from '../../engine/new-model.js';
import type { CheckpointInfo } from '../../store/checkpoints.js';

/** Managing models is for the person at the machine, never a LAN annotator. */
function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can manage models.', 'forbidden');
}

/** GPT-2 parameter count from its config (tied output embedding counted once). */
function parameterCount(c: Record<string, unknown>): number {
  const n = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : 0);
  const C = n('n_embd');
  return n('vocab_size') * C + n('n_positions') * C + n('n_layer') * (12 * C * C + 13 * C) + 2 * C;
}

function toRow(c: CheckpointInfo): CheckpointRow {
  const config = (c.model_config ?? {}) as Record<string, unknown>;
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
    parameters: parameterCount(config),
    weights_bytes: c.weights_bytes,
    has_optimizer: c.has_optimizer,
    metrics: (c.extra?.metrics as Record<string, number> | undefined) ?? {},
  };
}

function userError(e: unknown, code: string): never {
  throw new UserError(e instanceof Error ? e.message : String(e), code);
}

export const modelsHandlers: Partial<Handlers<ApiContext>> = {
  'models.list': async (_input, ctx) => {
    const checkpoints = ctx.app.project().checkpoints.list().map(toRow);
    // The same selection the engine worker makes, so the view names the backend runs will use.
    const b = await initBackend();
    return { checkpoints, backend: { name: b.name, reason: b.reason } };
  },

  'models.new': async (input, ctx) => {
    requireLocal(ctx);
    if (input.n_embd % input.n_head !== 0) throw new UserError('n_embd must be divisible by n_head.', 'invalid_input');
    await initBackend();
    try {
      const r = createNewModel(ctx.app.project(), input);
      ctx.app.emit('data.changed', { kinds: ['checkpoints'] });
      return { checkpoint: r.checkpoint, vocab_size: r.vocabSize, parameters: r.parameters };
    } catch (e) {
      userError(e, 'new_model_failed');
    }
  },

  'models.import': async ({ folder, name }, ctx) => {
    requireLocal(ctx);
    if (!existsSync(folder)) throw new UserError(`No folder at ${resolve(folder)}.`, 'not_found');
    await initBackend();
    try {
      const checkpoint = importHfModel(ctx.app.project(), folder, name);
      ctx.app.emit('data.changed', { kinds: ['checkpoints'] });
      return { checkpoint };
    } catch (e) {
      userError(e, 'import_failed');
    }
  },

  'models.export': ({ checkpoint, folder }, ctx) => {
    requireLocal(ctx);
    const project = ctx.app.project();
    if (!project.checkpoints.get(checkpoint)) throw new UserError(`No checkpoint with id ${checkpoint}.`, 'not_found');
    try {
      exportHfModel(project, checkpoint, folder);
    } catch (e) {
      userError(e, 'export_failed');
    }
    return { folder: resolve(folder), files: ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'] };
  },

  'models.delete': ({ checkpoint }, ctx) => {
    requireLocal(ctx);
    const repo = ctx.app.project().checkpoints;
    const children = repo.list().filter((c) => c.parent_id === checkpoint);
    // Deleting a parent would cut its descendants' lineage.
    if (children.length > 0) {
      throw new UserError(`Checkpoint ${checkpoint} is the parent of ${children.map((c) => c.id).join(', ')}; delete those first.`, 'conflict');
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
