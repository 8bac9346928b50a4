// `label status <project>`: each labeling task's progress and agreement.
// `label export-bundle <project> <file>` and `label import-bundle <project> <file>`: move
// annotators and their judgments between projects (docs/readme/labeling.md, "Bundles").
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BundleError, exportBundle, importBundle, parseBundle } from '../../label/bundle.js';
import { agreement, progress } from '../../label/views.js';
import { Project } from '../../store/project.js';
import type { Command, CommandIO } from '../command.js';
import { InputError } from '../../shared/errors.js';

const USAGE = 'label status <project> | label export-bundle|import-bundle <project> <file>';

export const labelCommand: Command = {
  name: 'label',
  usage: USAGE,
  summary: 'labeling progress and agreement per task; export annotators and judgments as a bundle, or merge one in (no duplicates)',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
    } catch (e) {
      throw new InputError(`label: ${e instanceof Error ? e.message : String(e)}`);
    }
    const [action, projectPath, file, ...rest] = parsed.positionals;
    if (action === 'status' && projectPath && !file) return status(projectPath, io);
    if (!action || !projectPath || !file || rest.length > 0) throw new InputError(`label: usage: ${USAGE}`);
    if (action !== 'export-bundle' && action !== 'import-bundle') {
      throw new InputError(`label: unknown action "${action}" (status, export-bundle or import-bundle)`);
    }
    if (!existsSync(projectPath)) throw new InputError(`${projectPath}: no such project file`);

    if (action === 'export-bundle') {
      const project = Project.open(projectPath);
      try {
        const bundle = exportBundle(project);
        // Written beside the target and renamed, so a crash never leaves half a bundle.
        writeFileSync(`${file}.tmp`, JSON.stringify(bundle, null, 1));
        renameSync(`${file}.tmp`, file);
        const counts = { annotators: bundle.annotators.length, rankings: bundle.rankings.length, votes: bundle.votes.length };
        io.out({ file, ...counts }, `${file}: ${counts.rankings} rankings, ${counts.votes} votes by ${counts.annotators} annotators`);
      } finally {
        project.close();
      }
      return 0;
    }

    if (!existsSync(file)) throw new InputError(`${file}: no such file`);
    let bundle;
    try {
      bundle = parseBundle(readFileSync(file, 'utf8'));
    } catch (e) {
      if (e instanceof BundleError) throw new InputError(`${file}: ${e.message}`);
      throw e;
    }
    const project = Project.open(projectPath);
    try {
      const r = importBundle(project, bundle);
      io.out(
        r,
        `merged ${r.rankings} rankings and ${r.votes} votes (${r.duplicates} already present), ` +
          `${r.annotators} new annotators, ${r.prompts} new prompts, ${r.responses} new responses`,
      );
    } finally {
      project.close();
    }
    return 0;
  },
};

function status(projectPath: string, io: CommandIO): number {
  if (!existsSync(projectPath)) throw new InputError(`${projectPath}: no such project file`);
  const project = Project.open(projectPath);
  try {
    const tasks = project.labeling.tasks().map((t) => {
      const p = progress(project, t);
      return { ...p.task, overall: p.overall, agreement: agreement(project, t) };
    });
    const fmt = (x: number | null) => (x === null ? '–' : x.toFixed(3));
    const lines = tasks.length
      ? tasks.flatMap((t) => [
          `${t.name} (${t.mode}, K=${t.k}): ${t.overall.done}/${t.overall.items} items done, ${t.overall.submissions} submissions, ${t.overall.conflicts} conflicts`,
          `  Krippendorff's alpha (${t.agreement.metric}) ${fmt(t.agreement.alpha)}: ${t.agreement.reading}`,
          ...t.agreement.pairs.map((p) => `  Cohen's kappa ${p.a} – ${p.b}: ${fmt(p.kappa)} (${p.reading}, n=${p.n})`),
        ])
      : ['no labeling tasks'];
    io.out({ tasks }, lines.join('\n'));
    return 0;
  } finally {
    project.close();
  }
}
