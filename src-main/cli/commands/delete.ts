// `delete <project> <kind> <id> [--yes]`: what deleting a record takes with it, and with --yes the
// delete itself. The CLI has no undo (its process ends with the command): without --yes nothing
// is deleted, so the list of dependents is always seen first.
import { DeleteRefused, deleteRecord, previewDelete } from '../../data/delete.js';
import type { Command } from '../command.js';
import { openProject, parseFlags, positiveInt } from '../engine-args.js';
import { InputError } from '../../shared/errors.js';
import { deletableKinds, type DeletableKind } from '../../shared/vocabulary.js';

const USAGE = `delete <project> ${deletableKinds.join('|')} <id> [--yes]`;

export const deleteCommand: Command = {
  name: 'delete',
  usage: USAGE,
  summary: 'delete a run, prompt, response, SFT example, ranking, A/B vote, label task, comparison or annotator (shows what goes with it; --yes deletes)',
  async run(argv, io) {
    const { positionals, values } = parseFlags('delete', USAGE, argv, { yes: { type: 'boolean', default: false } });
    const [file, kind, rawId, ...extra] = positionals;
    if (!file || !kind || !rawId || extra.length) throw new InputError(`delete: expected <project> <kind> <id>\nusage: rlhf-lab ${USAGE}`);
    if (!(deletableKinds as readonly string[]).includes(kind)) throw new InputError(`delete: kind "${kind}" is not one of ${deletableKinds.join(', ')}`);
    const id = positiveInt(rawId, 'delete: id');
    const project = openProject(file);
    try {
      const preview = previewDelete(project, kind as DeletableKind, id);
      const lines = [preview.label, ...preview.dependents.map((d) => `  ${d.what}`)];
      if (!values.yes) {
        io.out({ deleted: false, ...preview }, [...lines, 'nothing deleted: add --yes to delete (the command line has no undo)'].join('\n'));
        return 0;
      }
      deleteRecord(project, kind as DeletableKind, id);
      io.out({ deleted: true, ...preview }, [`deleted ${preview.label}`, ...lines.slice(1)].join('\n'));
      return 0;
    } catch (e) {
      if (e instanceof DeleteRefused) throw new InputError(`delete: ${e.message}`);
      throw e;
    } finally {
      project.close();
    }
  },
};
