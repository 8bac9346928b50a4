// data.deletePreview / delete / trash / restore: deleting records with their dependents shown
// first and an undo until the project closes (data/delete.ts, store/trash.ts). Host only.
import { DeleteRefused, deleteRecord, previewDelete } from '../../data/delete.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { UserError } from '../../shared/errors.js';

function requireLocal(ctx: ApiContext): void {
  if (ctx.annotatorId !== null) throw new UserError('Only the host can do this.', 'forbidden');
}

function refusedAsUserError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DeleteRefused) throw new UserError(e.message, /There is no/.test(e.message) ? 'not_found' : 'conflict');
    throw e;
  }
}

export const deleteHandlers: Partial<Handlers<ApiContext>> = {
  'data.deletePreview': ({ kind, id }, ctx) => {
    requireLocal(ctx);
    return refusedAsUserError(() => previewDelete(ctx.app.project(), kind, id));
  },
  'data.delete': ({ kind, id }, ctx) => {
    requireLocal(ctx);
    const entry = refusedAsUserError(() => deleteRecord(ctx.app.project(), kind, id));
    ctx.app.emit('data.changed', { kinds: ['deleted', kind] });
    return entry;
  },
  'data.trash': (_input, ctx) => {
    requireLocal(ctx);
    return ctx.app.project().trash.list();
  },
  'data.restore': ({ trashId }, ctx) => {
    requireLocal(ctx);
    let entry;
    try {
      entry = ctx.app.project().trash.restore(trashId);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (/nothing in the trash/.test(msg)) throw new UserError(`Nothing in the trash with id ${trashId}.`, 'not_found');
      throw new UserError(`Cannot undo: a record it would restore exists again (${msg}).`, 'conflict');
    }
    ctx.app.emit('data.changed', { kinds: ['restored', entry.kind] });
    return entry;
  },
};
