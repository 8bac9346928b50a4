// Open blind pairs (compare.nextBlind hands one out under a random token; compare.vote redeems it).
// In the project file, so an app restart keeps them; at most MAX_OPEN_PER_ANNOTATOR per annotator,
// the oldest of that annotator's dropped beyond it.
import type { DB } from './db.js';

export interface BlindPair {
  setId: number;
  annotatorId: number;
  promptId: number;
  responseA: number;
  responseB: number;
  checkpointA: number;
  checkpointB: number;
}

export const MAX_OPEN_PER_ANNOTATOR = 200;

export class BlindPairsRepo {
  readonly #insert;
  readonly #get;
  readonly #delete;
  readonly #trim;

  constructor(private readonly db: DB) {
    this.#insert = db.prepare(
      `INSERT INTO blind_pairs (token, set_id, annotator_id, prompt_id, response_a, response_b, checkpoint_a, checkpoint_b, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#get = db.prepare<[string], BlindPair>(
      `SELECT set_id AS setId, annotator_id AS annotatorId, prompt_id AS promptId, response_a AS responseA, response_b AS responseB,
              checkpoint_a AS checkpointA, checkpoint_b AS checkpointB
       FROM blind_pairs WHERE token = ?`,
    );
    this.#delete = db.prepare<[string]>('DELETE FROM blind_pairs WHERE token = ?');
    this.#trim = db.prepare<[number, number, number]>(
      `DELETE FROM blind_pairs WHERE annotator_id = ? AND rowid NOT IN
         (SELECT rowid FROM blind_pairs WHERE annotator_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    );
  }

  open(token: string, p: BlindPair): void {
    this.db.transaction(() => {
      this.#insert.run(token, p.setId, p.annotatorId, p.promptId, p.responseA, p.responseB, p.checkpointA, p.checkpointB, Date.now());
      this.#trim.run(p.annotatorId, p.annotatorId, MAX_OPEN_PER_ANNOTATOR);
    })();
  }

  get(token: string): BlindPair | undefined {
    return this.#get.get(token);
  }

  close(token: string): void {
    this.#delete.run(token);
  }
}
