// Compare on a tiny project: same seeds for both checkpoints, the judges, the KL, stored votes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { compareCommand } from '../../../src-main/cli/commands/compare.js';
import { compareCheckpoints, type CompareReport } from '../../../src-main/compare/compare.js';
import { goldScore } from '../../../src-main/demo/rubric.js';
import { Project } from '../../../src-main/store/project.js';
import { makeTinyDemo } from '../demo/tiny-demo.js';

let dir: string;
let file: string;
let base: number;
let other: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'compare-'));
  file = join(dir, 'tiny.rlhf');
  ({ base, other } = await makeTinyDemo(file));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type CliOut = Omit<CompareReport, 'rows'> & { rows?: unknown; backend: string | null };

async function cli(argv: string[]): Promise<{ status: number; out: CliOut; err: string }> {
  const outputs: unknown[] = [];
  let err = '';
  const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: () => {}, err: (m) => void (err += m) };
  let status: number;
  try {
    status = await compareCommand.run([...argv, '--json'], io);
  } catch (e) {
    status = e instanceof Error && e.constructor.name === 'InputError' ? 2 : 1;
    err += (e as Error).message;
  }
  return { status, out: outputs[0] as CliOut, err };
}

describe('compare', () => {
  it('a checkpoint against itself: identical responses (same seeds), all ties, zero KL', async () => {
    const p = Project.open(file);
    const r = await compareCheckpoints(p, { a: base, b: base, judge: 'gold', max_new_tokens: 8, store_responses: false }, { gold: goldScore });
    p.close();
    expect(r.n).toBe(16);
    expect(r.rows.every((row) => row.a === row.b && row.outcome === 'tie')).toBe(true);
    expect(r.win_rate).toBe(0.5);
    expect(r.mean_kl_b).toBeCloseTo(0, 5);
  });

  it('the judge is the caller\'s: any scorer of texts decides, and the gold judge is never assumed', async () => {
    const p = Project.open(file);
    try {
      const longer = (_prompt: string, response: string) => response.split(/\s+/).filter(Boolean).length;
      const o = { a: base, b: other, judge: 'gold' as const, n: 8, max_new_tokens: 8, seed: 1, store_responses: false };
      const r = await compareCheckpoints(p, o, { gold: longer });
      const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
      for (const row of r.rows) {
        expect(row.score_b).toBe(words(row.b));
        expect(row.outcome).toBe(words(row.b) > words(row.a) ? 'b' : words(row.b) < words(row.a) ? 'a' : 'tie');
      }
      await expect(compareCheckpoints(p, o)).rejects.toThrow(/gold judge/);
    } finally {
      p.close();
    }
  });

  it('CLI --json: b against a on the eval split by the gold judge, with the contract fields', async () => {
    const { status, out } = await cli([file, '--a', String(base), '--b', String(other), '--judge', 'gold', '--n', '10', '--max-tokens', '8', '--seed', '3']);
    expect(status).toBe(0);
    expect(out).toMatchObject({ n: 10, judge: 'gold', a: base, b: other, split: 'eval' });
    expect(out.wins + out.ties + out.losses).toBe(10);
    expect(out.ci_low).toBeLessThanOrEqual(out.win_rate);
    expect(out.ci_high).toBeGreaterThanOrEqual(out.win_rate);
    expect(Number.isFinite(out.mean_kl_b)).toBe(true);
    expect(out.rows).toBeUndefined();
    const again = await cli([file, '--a', String(base), '--b', String(other), '--judge', 'gold', '--n', '10', '--max-tokens', '8', '--seed', '3']);
    expect(again.out.win_rate).toBe(out.win_rate);
  });

  it('judges by blind human votes, whichever side each checkpoint was shown on; both-bad is a tie', async () => {
    const p = Project.open(file);
    const who = p.annotators.ensure('rater');
    const prompts = [...p.prompts.iterate()].filter((x) => x.split === 'eval').slice(0, 4);
    const vote = p.db.prepare(
      `INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, context, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'compare', 0)`,
    );
    const outcomes = [
      { bFirst: false, outcome: 'b' }, // b wins
      { bFirst: true, outcome: 'a' }, // shown first, b wins
      { bFirst: true, outcome: 'b' }, // a wins
      { bFirst: false, outcome: 'both_bad' }, // tie
    ];
    prompts.forEach((pr, i) => {
      const ra = p.responses.upsert({ promptId: pr.id, text: `from a ${i}`, source: 'checkpoint', checkpointId: base }).id;
      const rb = p.responses.upsert({ promptId: pr.id, text: `from b ${i}`, source: 'checkpoint', checkpointId: other }).id;
      const o = outcomes[i]!;
      vote.run(`v${i}`, pr.id, o.bFirst ? rb : ra, o.bFirst ? ra : rb, o.outcome, who);
    });
    p.close();
    const { status, out } = await cli([file, '--a', String(base), '--b', String(other), '--judge', 'human']);
    expect(status).toBe(0);
    expect(out).toMatchObject({ n: 4, wins: 2, losses: 1, ties: 1, win_rate: 0.625, mean_kl_b: null });
  });

  it('bad input exits 2 naming the flag; no reward model is a run-time error', async () => {
    const missing = await cli([file, '--a', String(base), '--b', '999', '--judge', 'gold']);
    expect(missing.status).toBe(2);
    expect(missing.err).toMatch(/checkpoint 999 does not exist/);
    const judge = await cli([file, '--a', String(base), '--b', String(other), '--judge', 'vibes']);
    expect(judge.status).toBe(2);
    expect(judge.err).toMatch(/--judge/);
    const noRm = await cli([file, '--a', String(base), '--b', String(other), '--judge', 'rm']);
    expect(noRm.status).toBe(1);
    expect(noRm.err).toMatch(/no reward model/);
  });
});
