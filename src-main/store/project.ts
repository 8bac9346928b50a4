// A project: one SQLite file (*.rlhf) and one repository object per area of the data model.
// Repositories prepare their statements once, when the project opens.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AnnotatorsRepo } from './annotators.js';
import { cleanInterruptedBackups } from './backup.js';
import { BlindPairsRepo } from './blind-pairs.js';
import { CheckpointsRepo } from './checkpoints.js';
import { ComparisonSetsRepo } from './comparison-sets.js';
import { openDatabase, readableInPlace, readOnlyReason, type DB } from './db.js';
import { InvitesRepo } from './invites.js';
import { checkWritableLocation } from './location.js';
import { GuidelinesRepo } from './guidelines.js';
import { JudgmentsRepo } from './judgments.js';
import { LabelTasksRepo } from './label-tasks.js';
import { PreferencesRepo } from './preferences.js';
import { PromptsRepo } from './prompts.js';
import { ResponsesRepo } from './responses.js';
import { RunLeasesRepo } from './run-leases.js';
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
  /** Labeling tasks and their items. */
  readonly labelTasks: LabelTasksRepo;
  /** Annotators' rankings and votes on label items. */
  readonly judgments: JudgmentsRepo;
  readonly guidelines: GuidelinesRepo;
  readonly invites: InvitesRepo;
  readonly checkpoints: CheckpointsRepo;
  readonly runs: RunsRepo;
  readonly comparisonSets: ComparisonSetsRepo;
  readonly blindPairs: BlindPairsRepo;
  readonly runLeases: RunLeasesRepo;
  /** Deleted records, restorable until the project is closed. */
  readonly trash: Trash;

  private constructor(
    readonly path: string,
    readonly db: DB,
    /** Why the project can only be viewed (a read-only file or folder), or null when it can be edited. */
    readonly readOnly: string | null,
  ) {
    this.prompts = new PromptsRepo(db);
    this.responses = new ResponsesRepo(db);
    this.sft = new SftRepo(db);
    this.annotators = new AnnotatorsRepo(db);
    this.preferences = new PreferencesRepo(db);
    this.stats = new StatsRepo(db);
    this.labelTasks = new LabelTasksRepo(db);
    this.judgments = new JudgmentsRepo(db, this.labelTasks);
    this.guidelines = new GuidelinesRepo(db);
    this.invites = new InvitesRepo(db);
    this.checkpoints = new CheckpointsRepo(db);
    this.runs = new RunsRepo(db);
    this.comparisonSets = new ComparisonSetsRepo(db);
    this.blindPairs = new BlindPairsRepo(db);
    this.runLeases = new RunLeasesRepo(db);
    this.trash = new Trash(db);
  }

  /**
   * Opens (and migrates) a project file; a missing file is created only with `create: true`.
   * A file we may not write is opened read-only (viewable; `readOnly` says why).
   */
  static open(path: string, opts: { create?: boolean; verify?: boolean } = {}): Project {
    if (!opts.create && !existsSync(path)) throw new ProjectNotFoundError(path);
    if (opts.create && !existsSync(path)) checkWritableLocation(path);
    let readOnly = readOnlyReason(path);
    let snapshot: string | null = null;
    if (readOnly !== null && !readableInPlace(path)) {
      // Read a copy: SQLite cannot read a WAL-mode file in a folder where it cannot create the -shm.
      snapshot = join(mkdtempSync(join(tmpdir(), 'rlhf-readonly-')), basename(path));
      copyFileSync(path, snapshot);
      readOnly += '; showing a copy taken when it was opened';
    }
    let db: DB | undefined;
    try {
      db = openDatabase(snapshot ?? path, { create: opts.create ?? false, readonly: readOnly !== null, verify: opts.verify });
      const project = new Project(path, db, readOnly);
      project.#snapshot = snapshot;
      if (readOnly === null) cleanInterruptedBackups(path);
      return project;
    } catch (e) {
      db?.close();
      if (snapshot) rmSync(dirname(snapshot), { recursive: true, force: true });
      throw e;
    }
  }

  #snapshot: string | null = null;

  close(): void {
    if (this.db.open) this.db.close();
    if (this.#snapshot) rmSync(dirname(this.#snapshot), { recursive: true, force: true });
    this.#snapshot = null;
  }
}
