// project.stats and data.*: counts, imports (as jobs), browsing pages, exports. Thin over the
// store's repositories and data/export.ts.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { exportText, exportToFile } from '../../data/export.js';
import type { ApiContext } from '../context.js';
import type { Handlers } from '../router.js';
import { UserError } from '../../shared/errors.js';

function exportName(file: string): void {
  if (!/\.jsonl?$/i.test(file)) throw new UserError(`${file}: export writes .jsonl (or a JSON array to .json)`, 'bad_file');
}

export const dataHandlers: Partial<Handlers<ApiContext>> = {
  'project.stats': (_input, ctx) => ctx.app.project().stats.counts(),

  'data.import': ({ file, as, split }, ctx) => {
    ctx.app.project();
    if (!existsSync(file)) throw new UserError(`${file}: no such file`, 'not_found');
    return ctx.app.startJob('import', { file, as, split }, `Import ${basename(file)} as ${as}`);
  },
  'data.importText': ({ name, text, as, split }, ctx) => {
    ctx.app.project();
    return ctx.app.startJob('import', { name, text, as, split }, `Import ${basename(name)} as ${as}`);
  },

  'data.export': ({ file, as, format }, ctx) => {
    exportName(file);
    if (format === 'hh' && as !== 'preferences') throw new UserError('The HH format applies to preferences only.', 'bad_format');
    const project = ctx.app.project();
    try {
      return exportToFile(project, file, as, format);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new UserError(`${file}: cannot write the file (${code})`, 'bad_file');
      throw e;
    }
  },
  'data.exportText': ({ as, format }, ctx) => {
    if (format === 'hh' && as !== 'preferences') throw new UserError('The HH format applies to preferences only.', 'bad_format');
    const { text, count } = exportText(ctx.app.project(), as, format);
    return { name: `${as}${format === 'hh' ? '-hh' : ''}.jsonl`, text, count };
  },

  'data.prompts': (q, ctx) => ctx.app.project().prompts.page(q),
  'data.pairs': (q, ctx) => ctx.app.project().preferences.pairsPage(q),
  'data.sft': (q, ctx) => ctx.app.project().sft.page(q),
  // A teammate labels blind: which model (or import) wrote a response would bias the judgment.
  'data.responses': ({ promptId }, ctx) =>
    ctx.app
      .project()
      .responses.forPrompt(promptId)
      .map((r) =>
        ctx.annotatorId === null
          ? { id: r.id, text: r.text, source: r.source, checkpoint_id: r.checkpoint_id }
          : { id: r.id, text: r.text, source: null, checkpoint_id: null },
      ),
};
