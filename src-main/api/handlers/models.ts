// models.*: the project's checkpoints with lineage, delete, and — as jobs in the engine worker —
// new/import/export and the playground's sampling (its text streams through job.progress).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckpointRow } from '../../shared/contract.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { initBackend } from '../../engine/backend/backend.js';
import type { CheckpointInfo } from '../../store/checkpoints.js';
import { UserError } from '../../shared/errors.js';

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

export const modelsHandlers: Partial<Handlers<ApiContext>> = {
  'models.list': async (_input, ctx) => {
    const checkpoints = ctx.app.project().checkpoints.list().map(toRow);
    // The same selection the engine worker makes, so the view names the backend runs will use.
    const b = await initBackend();
    return { checkpoints, backend: { name: b.name, reason: b.reason } };
  },

  'models.new': (input, ctx) => {
    requireLocal(ctx);
    if (input.n_embd % input.n_head !== 0) throw new UserError('n_embd must be divisible by n_head.', 'invalid_input');
    return ctx.app.startJob('new-model', input, `New model ${input.n_layer}L-${input.n_embd}d`);
  },

  'models.import': ({ folder, name }, ctx) => {
    requireLocal(ctx);
    // A Hub id (hf:OWNER/NAME[@revision]) is downloaded into the Hugging Face cache by the job.
    if (folder.startsWith('hf:')) return ctx.app.startJob('import-model', { folder, ...(name ? { name } : {}) }, `Import ${folder}`);
    const abs = resolve(folder);
    if (!existsSync(join(abs, 'config.json'))) throw new UserError(`No Hugging Face model folder at ${abs} (config.json is missing).`, 'not_found');
    return ctx.app.startJob('import-model', { folder: abs, ...(name ? { name } : {}) }, `Import ${abs}`);
  },

  'models.export': ({ checkpoint, folder }, ctx) => {
    requireLocal(ctx);
    if (!ctx.app.project().checkpoints.get(checkpoint)) throw new UserError(`No checkpoint with id ${checkpoint}.`, 'not_found');
    return ctx.app.startJob('export-model', { checkpoint, folder: resolve(folder) }, `Export checkpoint ${checkpoint}`);
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
