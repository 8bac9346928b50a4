// Preference data as the reward model and DPO read it from a project: rankings become pairs
// across tiers (ties give none), A/B votes with a winner become pairs ("tie", "both bad" and, by
// default, Compare's votes do not), and the held-out split is by prompt.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPreferenceData, splitByPrompt } from '../../../src-main/engine/train/preference-data.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let p: Project;
const ids: Record<string, number> = {};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rm-prefs-'));
  p = Project.open(join(dir, 'x.rlhf'), { create: true });
  const ann = p.annotators.ensure('a');
  const q1 = p.prompts.upsert('first prompt').id;
  const q2 = p.prompts.upsert('second prompt', { split: 'eval' }).id;
  for (const [name, prompt] of [['a', q1], ['b', q1], ['c', q1], ['d', q1], ['x', q2], ['y', q2]] as const) {
    ids[name] = p.responses.upsert({ promptId: prompt, text: `response ${name}`, source: 'human' }).id;
  }
  p.preferences.insertRanking({ uid: 'r1', promptId: q1, annotatorId: ann, ranking: [[ids.a!], [ids.b!, ids.c!], [ids.d!]], source: 'human' });
  const vote = p.db.prepare(
    `INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, context, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
  );
  vote.run('v1', q2, ids.x, ids.y, 'b', ann, 'label');
  vote.run('v2', q2, ids.x, ids.y, 'tie', ann, 'label');
  vote.run('v3', q2, ids.x, ids.y, 'both_bad', ann, 'label');
  vote.run('v4', q2, ids.x, ids.y, 'a', ann, 'compare');
});
afterAll(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('preference data from the store', () => {
  it('expands the ranking with a tie into 5 pairs and keeps only the decided label vote', () => {
    const d = loadPreferenceData(p.db, { includeCompareVotes: false, marginPerTierGap: 0 });
    expect(d.votes.map((v) => [v.chosen, v.rejected])).toEqual([
      [ids.a, ids.b],
      [ids.a, ids.c],
      [ids.a, ids.d],
      [ids.b, ids.d],
      [ids.c, ids.d],
      [ids.y, ids.x],
    ]);
    expect(d.responses.get(ids.a!)).toBe('response a');
  });
  it('adds Compare votes when asked, and margins from the tier gap', () => {
    const d = loadPreferenceData(p.db, { includeCompareVotes: true, marginPerTierGap: 0.5 });
    expect(d.votes).toHaveLength(7);
    expect(d.votes.find((v) => v.chosen === ids.a && v.rejected === ids.d)!.margin).toBe(0.5);
    expect(d.votes.find((v) => v.chosen === ids.a && v.rejected === ids.b)!.margin).toBe(0);
  });
  it('holds out the prompts marked eval', () => {
    const d = loadPreferenceData(p.db, { includeCompareVotes: false, marginPerTierGap: 0 });
    const s = splitByPrompt(d, 0.1, 0);
    expect(s.train).toHaveLength(5);
    expect(s.eval).toHaveLength(1);
    expect(s.eval[0]!.chosen).toBe(ids.y);
  });
});
