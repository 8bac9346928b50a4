// The project leaderboard over every blind vote: nothing until three checkpoints have votes; then
// Bradley–Terry ratings in the order the votes say, intervals around them, Arena's rank (UB).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leaderboard } from '../../../src-main/compare/leaderboard.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let p: Project;
let ann: number;
let set: number;
let n = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'leaderboard-'));
  p = Project.open(join(dir, 'p.rlhf'), { create: true });
  ann = p.annotators.ensure('judge');
  set = p.comparisonSets.create('arena', { checkpoints: [], prompt_ids: [] });
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

function checkpoint(name: string): number {
  return (p.db.prepare("INSERT INTO checkpoints (name, stage, model_config, tokenizer, weights, sha256, created_at) VALUES (?, 'sft', '{}', '{}', x'00', 'x', 0) RETURNING id").get(name) as { id: number }).id;
}

/** `count` blind votes between a and b with the given outcome, each on a prompt of its own. */
function votes(a: number, b: number, outcome: 'a' | 'b' | 'tie', count: number) {
  for (let i = 0; i < count; i++) {
    const prompt = p.prompts.upsert(`prompt ${n++}`).id;
    const ra = p.responses.upsert({ promptId: prompt, text: `from ${a}`, source: 'checkpoint', checkpointId: a }).id;
    const rb = p.responses.upsert({ promptId: prompt, text: `from ${b}`, source: 'checkpoint', checkpointId: b }).id;
    p.comparisonSets.vote(set, { promptId: prompt, responseA: ra, responseB: rb, checkpointA: a, checkpointB: b, outcome, annotatorId: ann, secondsSpent: 2 });
  }
}

describe('leaderboard', () => {
  it('stays empty with two checkpoints, then ranks three by their votes', () => {
    const [sft, ppo, dpo] = ['sft', 'ppo', 'dpo'].map(checkpoint) as [number, number, number];
    votes(sft, ppo, 'b', 12);
    votes(sft, ppo, 'a', 4);
    expect(leaderboard(p)).toEqual({ rows: [], votes: 16, checkpoints: 2 });

    votes(sft, dpo, 'b', 9);
    votes(sft, dpo, 'a', 7);
    votes(ppo, dpo, 'a', 10);
    votes(ppo, dpo, 'tie', 4);
    const board = leaderboard(p);
    expect(board.votes).toBe(46);
    expect(board.rows.map((r) => r.name)).toEqual(['ppo', 'dpo', 'sft']);
    for (const r of board.rows) {
      expect(r.ci_low).toBeLessThanOrEqual(r.rating);
      expect(r.ci_high).toBeGreaterThanOrEqual(r.rating);
    }
    expect(board.rows.find((r) => r.name === 'ppo')).toMatchObject({ battles: 30, win_rate: (12 + 10 + 2) / 30, rank: 1 });
    // dpo and sft: 9–7 between them, too close for their intervals to separate — they share a rank.
    const dpoRow = board.rows.find((r) => r.name === 'dpo')!;
    const sftRow = board.rows.find((r) => r.name === 'sft')!;
    expect(sftRow.rank).toBe(dpoRow.rank);
  });
});
