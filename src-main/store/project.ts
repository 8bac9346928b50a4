// A project: one SQLite file (*.rlhf) and one repository object per area of the data model.
// Repositories prepare their statements once, when the project opens.
import { existsSync } from 'node:fs';
import { AnnotatorsRepo } from './annotators.js';
import { CheckpointsRepo } from './checkpoints.js';
import { ComparisonSetsRepo } from './comparison-sets.js';
import { openDatabase, type DB } from './db.js';
import { InvitesRepo } from './invites.js';
import { LabelingRepo } from './labeling.js';
import { PreferencesRepo } from './preferences.js';
import { PromptsRepo } from './prompts.js';
import { ResponsesRepo } from './responses.js';
import { RunsRepo } from './runs.js';
import { SftRepo } from './sft.js';
import { StatsRepo } from './stats.js';
import { Trash } from './trash.js';

export class ProjectNotFoundError extends Error {
  constructor(readonly file: string) {
    super(`${file}: no such project file (create one with "rlhf-lab init ${file}")`);
  }
}

export class Project {
  readonly prompts: PromptsRepo;
  readonly responses: ResponsesRepo;
  readonly sft: SftRepo;
  readonly annotators: AnnotatorsRepo;
  readonly preferences: PreferencesRepo;
  readonly stats: StatsRepo;
  readonly labeling: LabelingRepo;
  readonly invites: InvitesRepo;
  readonly checkpoints: CheckpointsRepo;
  readonly runs: RunsRepo;
  readonly comparisonSets: ComparisonSetsRepo;
  /** Deleted records, restorable until the project is closed. */
  readonly trash: Trash;

  private constructor(
    readonly path: string,
    readonly db: DB,
  ) {
    this.prompts = new PromptsRepo(db);
    this.responses = new ResponsesRepo(db);
    this.sft = new SftRepo(db);
    this.annotators = new AnnotatorsRepo(db);
    this.preferences = new PreferencesRepo(db);
    this.stats = new StatsRepo(db);
    this.labeling = new LabelingRepo(db);
    this.invites = new InvitesRepo(db);
    this.checkpoints = new CheckpointsRepo(db);
    this.runs = new RunsRepo(db);
    this.comparisonSets = new ComparisonSetsRepo(db);
    this.trash = new Trash(db);
  }

  /** Opens (and migrates) a project file; a missing file is created only with `create: true`. */
  static open(path: string, opts: { create?: boolean } = {}): Project {
    if (!opts.create && !existsSync(path)) throw new ProjectNotFoundError(path);
    const db = openDatabase(path, { create: opts.create ?? false });
    try {
      return new Project(path, db);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
