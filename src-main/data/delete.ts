// Deleting a project's records — runs, prompts, responses, SFT examples, rankings, A/B votes,
// label tasks, comparisons, annotators — with what goes with each shown first and an undo until
// the project is closed (store/trash.ts). The app (data.* API), and the CLI (`rlhf-lab delete`)
// share these words and checks.
import type { Project } from '../store/project.js';
import type { Dependent, TrashEntry } from '../store/trash.js';
import type { DeletableKind } from '../shared/vocabulary.js';

interface KindDef {
  table: string;
  noun: string;
  /** The column that names a row, shown (shortened) in its label. */
  nameColumn: string;
}

const kinds: Record<DeletableKind, KindDef> = {
  run: { table: 'runs', noun: 'run', nameColumn: 'name' },
  prompt: { table: 'prompts', noun: 'prompt', nameColumn: 'text' },
  response: { table: 'responses', noun: 'response', nameColumn: 'text' },
  sft: { table: 'sft_examples', noun: 'SFT example', nameColumn: "coalesce(prompt, text, messages, '')" },
  ranking: { table: 'rankings', noun: 'ranking', nameColumn: "''" },
  vote: { table: 'comparisons', noun: 'A/B vote', nameColumn: "''" },
  task: { table: 'label_tasks', noun: 'label task', nameColumn: 'name' },
  comparison: { table: 'comparison_sets', noun: 'comparison', nameColumn: 'name' },
  annotator: { table: 'annotators', noun: 'annotator', nameColumn: 'name' },
};

/** Tables as a person names what is in them. */
const tableNouns: Record<string, string> = {
  runs: 'runs',
  metrics: 'metric points',
  samples: 'logged samples',
  run_events: 'run warnings',
  checkpoints: 'checkpoints',
  checkpoint_parts: 'parts of large checkpoints',
  prompts: 'prompts',
  responses: 'responses',
  sft_examples: 'SFT examples',
  rankings: 'rankings',
  comparisons: 'A/B votes',
  label_tasks: 'label tasks',
  label_items: 'label items',
  comparison_sets: 'comparisons',
  comparison_rows: 'comparison answers',
  annotators: 'annotators',
  invites: 'invites',
  pairs: 'preference pairs',
};

export interface DeletePreview {
  label: string;
  /** Each: "12 metric points deleted", "2 checkpoints kept, unlinked". */
  dependents: (Dependent & { what: string })[];
}

export class DeleteRefused extends Error {}

function describe(project: Project, kind: DeletableKind, id: number): string {
  const def = kinds[kind];
  const row = project.db.prepare(`SELECT ${def.nameColumn} AS name FROM "${def.table}" WHERE id = ?`).get(id) as { name: unknown } | undefined;
  if (!row) throw new DeleteRefused(`There is no ${def.noun} ${id}.`);
  const name = String(row.name ?? '').replace(/\s+/g, ' ').trim();
  return `${def.noun} #${id}${name ? ` “${name.length > 60 ? `${name.slice(0, 59)}…` : name}”` : ''}`;
}

function refuse(project: Project, kind: DeletableKind, id: number): void {
  if (kind === 'run' && ['running', 'pending'].includes(project.runs.get(id)?.status ?? '')) {
    throw new DeleteRefused(`Run ${id} is still training: stop it before deleting it.`);
  }
  if (kind === 'comparison' && project.comparisonSets.get(id)?.status === 'running') {
    throw new DeleteRefused(`Comparison ${id} is still generating: cancel it before deleting it.`);
  }
}

function withWords(d: Dependent): Dependent & { what: string } {
  const noun = tableNouns[d.table] ?? d.table;
  return { ...d, what: `${d.count.toLocaleString('en-US')} ${noun} ${d.effect === 'deleted' ? 'deleted' : 'kept, unlinked'}` };
}

/** Preference pairs are kept by triggers, not foreign keys: counted here for the kinds they go with. */
const pairColumn: Partial<Record<DeletableKind, string>> = { ranking: 'ranking_id', vote: 'comparison_id', prompt: 'prompt_id', annotator: 'annotator_id' };

export function previewDelete(project: Project, kind: DeletableKind, id: number): DeletePreview {
  const label = describe(project, kind, id);
  const dependents = project.trash.dependents(kinds[kind].table, id);
  const column = pairColumn[kind];
  if (column) {
    const n = (project.db.prepare(`SELECT count(*) AS n FROM pairs WHERE ${column} = ?`).get(id) as { n: number }).n;
    if (n > 0) dependents.push({ table: 'pairs', count: n, effect: 'deleted' });
  }
  return { label, dependents: dependents.map(withWords) };
}

export function deleteRecord(project: Project, kind: DeletableKind, id: number): TrashEntry {
  const label = describe(project, kind, id);
  refuse(project, kind, id);
  return project.trash.remove(kinds[kind].table, id, kind, label);
}
