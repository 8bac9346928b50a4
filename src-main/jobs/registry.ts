// Every kind of job the app can run: kind → the module exporting its JobFn, and which data
// kinds it changes (sent with `data.changed` when it completes so views refresh).
// Module paths are relative to this file; the worker imports them by URL, so adding a kind
// needs only one entry here (a training stage's job, none: see trainingJobs).
import { runStages } from '../shared/vocabulary.js';

export interface JobEntry {
  module: string;
  export: string;
  changes: string[];
}

export type JobRegistry = Record<string, JobEntry>;

/**
 * One job per training stage named in shared/vocabulary.ts (runStages): `train-<stage>`, exported as
 * `train<Stage>Job` by kinds/train-<stage>.ts (the stage catalogue, train/stages.ts, says the same).
 */
function trainingJobs(): JobRegistry {
  const entry = (stage: string): JobEntry => ({
    module: `./kinds/train-${stage}.js`,
    export: `train${stage[0]!.toUpperCase()}${stage.slice(1)}Job`,
    changes: ['runs', 'checkpoints'],
  });
  return Object.fromEntries(runStages.map((stage) => [`train-${stage}`, entry(stage)]));
}

export const jobRegistry: JobRegistry = {
  generate: { module: './kinds/generate.js', export: 'generateJob', changes: [] },
  'new-model': { module: './kinds/models.js', export: 'newModelJob', changes: ['checkpoints'] },
  'import-model': { module: './kinds/models.js', export: 'importModelJob', changes: ['checkpoints'] },
  'export-model': { module: './kinds/models.js', export: 'exportModelJob', changes: [] },
  ...trainingJobs(),
  demo: { module: './kinds/demo.js', export: 'demoJob', changes: ['runs', 'checkpoints', 'responses', 'rankings', 'pairs', 'label_tasks', 'comparison_sets'] },
  import: { module: './kinds/import.js', export: 'importJob', changes: ['prompts', 'responses', 'pairs', 'sft', 'rankings'] },
  'label-generate': { module: './kinds/label-generate.js', export: 'labelGenerateJob', changes: ['responses', 'label_tasks'] },
  compare: { module: './kinds/compare.js', export: 'compareJob', changes: ['responses', 'comparison_sets'] },
  'judge-checkpoints': { module: './kinds/judge-checkpoints.js', export: 'judgeCheckpointsJob', changes: ['checkpoint_judges'] },
  'demo-overoptimization': { module: './kinds/demo-overoptimization.js', export: 'demoOveroptimizationJob', changes: ['runs', 'checkpoints', 'checkpoint_judges'] },
};

/** The URL to import for an entry; from TypeScript source (tsx, vitest) the `.ts` file itself. */
export function jobModuleUrl(entry: JobEntry, base: string = import.meta.url): string {
  const url = new URL(entry.module, base);
  if (base.endsWith('.ts') && url.pathname.endsWith('.js')) url.pathname = url.pathname.slice(0, -3) + '.ts';
  return url.href;
}
