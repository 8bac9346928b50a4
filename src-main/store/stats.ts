// Counts shown on the Data view and by `rlhf-lab stats`.
import type { ProjectStats } from '../shared/contract.js';
import type { DB } from './db.js';

export interface AnnotatorStats {
  name: string;
  simulated: boolean;
  rankings: number;
  comparisons: number;
}

export class StatsRepo {
  private readonly countsStmt;
  private readonly byAnnotatorStmt;

  constructor(db: DB) {
    // pairs: C(n,2) − Σ C(|group|,2) per submitted ranking (ties give no pair) plus every
    // comparison with a winner, kept in the pairs table by triggers (migration 0003).
    this.countsStmt = db.prepare<[], ProjectStats>(`
      SELECT
        (SELECT count(*) FROM prompts) AS prompts,
        (SELECT count(*) FROM responses) AS responses,
        (SELECT count(*) FROM rankings WHERE status = 'submitted') AS rankings,
        (SELECT count(*) FROM pairs) AS pairs,
        (SELECT count(*) FROM comparisons) AS comparisons,
        (SELECT count(*) FROM sft_examples) AS sft_examples,
        (SELECT count(*) FROM checkpoints) AS checkpoints,
        (SELECT count(*) FROM runs) AS runs,
        (SELECT count(*) FROM annotators) AS annotators`);
    this.byAnnotatorStmt = db.prepare<[], { name: string; simulated: number; rankings: number; comparisons: number }>(`
      SELECT a.name, a.simulated,
             (SELECT count(*) FROM rankings r WHERE r.annotator_id = a.id AND r.status = 'submitted') AS rankings,
             (SELECT count(*) FROM comparisons c WHERE c.annotator_id = a.id) AS comparisons
      FROM annotators a ORDER BY a.id`);
  }

  counts(): ProjectStats {
    return this.countsStmt.get()!;
  }

  byAnnotator(): AnnotatorStats[] {
    return this.byAnnotatorStmt.all().map((a) => ({ ...a, simulated: a.simulated === 1 }));
  }
}
