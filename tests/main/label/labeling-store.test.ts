import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPreferenceData } from '../../../src-main/engine/train/preference-data.js';
import { LabelingError } from '../../../src-main/store/labeling.js';
import { makeProject, type Fixture } from './fixture.js';

let f: Fixture;
let ann: number;
let bob: number;
beforeEach(() => {
  f = makeProject(3, 4);
  ann = f.project.annotators.ensure('Ann', { colour: '#e4572e' });
  bob = f.project.annotators.ensure('Bob', { colour: '#17bebb' });
});
afterEach(() => f.cleanup());

const judgment = (ranking: number[][], extra: Partial<{ flags: ('unsafe' | 'factually_wrong' | 'should_say_idk')[]; comment: string; seconds_spent: number }> = {}) => ({
  ranking,
  flags: [],
  comment: '',
  seconds_spent: 12,
  ...extra,
});

function rankingTask() {
  return f.project.labeling.createTask({
    name: 'first batch',
    mode: 'ranking',
    k: 4,
    minAnnotators: 2,
    items: f.prompts.map((p) => ({ promptId: p.id, responseIds: p.responses })),
  });
}

describe('labeling store', () => {
  it('creates a task with its items in order', () => {
    const task = rankingTask();
    expect(task).toMatchObject({ name: 'first batch', mode: 'ranking', k: 4, min_annotators: 2, items: 3 });
    const items = f.project.labeling.items(task.id);
    expect(items.map((i) => i.prompt_id)).toEqual(f.prompts.map((p) => p.id));
    expect(items[0]!.response_ids).toEqual(f.prompts[0]!.responses);
  });

  it('stores a submitted ranking with ties, flags, comment and seconds, keeping one row per item and annotator', () => {
    const task = rankingTask();
    const item = f.project.labeling.items(task.id)[0]!;
    const [a, b, c, d] = item.response_ids as [number, number, number, number];
    f.project.labeling.saveDraft(item.id, ann, judgment([[b]]));
    const draft = f.project.labeling.ranking(item.id, ann)!;
    expect(draft.status).toBe('draft');
    const sub = f.project.labeling.submit(item.id, ann, judgment([[b], [a, c], [d]], { flags: ['unsafe', 'unsafe'], comment: 'c is rude', seconds_spent: 31.5 }));
    expect(sub).toMatchObject({ status: 'submitted', ranking: [[b], [a, c], [d]], flags: ['unsafe'], comment: 'c is rude', seconds_spent: 31.5 });
    // The draft became the submission: same row, same uid.
    expect(sub.uid).toBe(draft.uid);
    expect(sub.id).toBe(draft.id);
    const n = f.project.db.prepare('SELECT count(*) AS n FROM rankings').get() as { n: number };
    expect(n.n).toBe(1);
  });

  it('never lets a late autosave overwrite a submission', () => {
    const item = f.project.labeling.items(rankingTask().id)[0]!;
    const ids = item.response_ids;
    f.project.labeling.submit(item.id, ann, judgment(ids.map((id) => [id])));
    const after = f.project.labeling.saveDraft(item.id, ann, judgment([[ids[3]!]]));
    expect(after.status).toBe('submitted');
    expect(after.ranking).toEqual(ids.map((id) => [id]));
  });

  it('refuses incomplete or foreign rankings on submit, but keeps partial drafts', () => {
    const item = f.project.labeling.items(rankingTask().id)[0]!;
    const ids = item.response_ids;
    expect(() => f.project.labeling.submit(item.id, ann, judgment([[ids[0]!]]))).toThrow(/Rank all 4 responses/);
    expect(() => f.project.labeling.saveDraft(item.id, ann, judgment([[ids[0]!], [ids[0]!]]))).toThrow(LabelingError);
    expect(() => f.project.labeling.saveDraft(item.id, ann, judgment([[f.prompts[1]!.responses[0]!]]))).toThrow(/not one of this item/);
    expect(f.project.labeling.saveDraft(item.id, ann, judgment([[ids[0]!]])).status).toBe('draft');
  });

  it('skips keep the draft for later, and a submitted item cannot be skipped', () => {
    const items = f.project.labeling.items(rankingTask().id);
    const ids = items[0]!.response_ids;
    f.project.labeling.saveDraft(items[0]!.id, ann, judgment([[ids[1]!]]));
    const skipped = f.project.labeling.skip(items[0]!.id, ann, 4);
    expect(skipped).toMatchObject({ status: 'skipped', ranking: [[ids[1]]] });
    f.project.labeling.submit(items[1]!.id, ann, judgment(items[1]!.response_ids.map((id) => [id])));
    expect(() => f.project.labeling.skip(items[1]!.id, ann, 1)).toThrow(/already judged/);
  });

  it('marks feed queues: drafts, submissions and skips per annotator', () => {
    const items = f.project.labeling.items(rankingTask().id);
    f.project.labeling.submit(items[0]!.id, ann, judgment(items[0]!.response_ids.map((id) => [id])));
    f.project.labeling.saveDraft(items[1]!.id, bob, judgment([]));
    f.project.labeling.skip(items[2]!.id, bob, 1);
    const marks = f.project.labeling.marks(items[0]!.task_id);
    expect(marks.map((m) => [m.itemId, m.annotatorId, m.status]).sort()).toEqual(
      [
        [items[0]!.id, ann, 'submitted'],
        [items[1]!.id, bob, 'draft'],
        [items[2]!.id, bob, 'skipped'],
      ].sort(),
    );
  });

  it('pairwise votes are final and one per annotator', () => {
    const task = f.project.labeling.createTask({
      name: 'ab',
      mode: 'pairwise',
      k: 2,
      minAnnotators: 1,
      items: f.prompts.map((p) => ({ promptId: p.id, responseIds: p.responses.slice(0, 2) })),
    });
    const item = f.project.labeling.items(task.id)[0]!;
    const first = f.project.labeling.castVote(item.id, ann, { outcome: 'b', flags: [], comment: '', seconds_spent: 3 });
    expect(first.created).toBe(true);
    expect(first.vote).toMatchObject({ outcome: 'b', response_a: item.response_ids[0], response_b: item.response_ids[1] });
    const again = f.project.labeling.castVote(item.id, ann, { outcome: 'a', flags: [], comment: '', seconds_spent: 3 });
    expect(again.created).toBe(false);
    expect(again.vote.outcome).toBe('b');
    expect(() => f.project.labeling.submit(item.id, ann, judgment([[item.response_ids[0]!]]))).toThrow(/pairwise/);
  });

  it('the preference pairs the reward model reads come from submissions only', () => {
    const items = f.project.labeling.items(rankingTask().id);
    const [a, b, c, d] = items[0]!.response_ids as [number, number, number, number];
    f.project.labeling.submit(items[0]!.id, ann, judgment([[a], [b, c], [d]]));
    f.project.labeling.saveDraft(items[1]!.id, ann, judgment(items[1]!.response_ids.map((id) => [id])));
    f.project.labeling.saveDraft(items[2]!.id, bob, judgment(items[2]!.response_ids.map((id) => [id])));
    f.project.labeling.skip(items[2]!.id, bob, 2);
    const pairs = [...f.project.preferences.iteratePairs()];
    // a>b, a>c, a>d, b>d, c>d: five pairs; the tie b=c gives none; drafts and skips give none.
    expect(pairs.map((p) => [p.chosen, p.rejected])).toEqual([
      ['Answer 1 to case 1', 'Answer 2 to case 1'],
      ['Answer 1 to case 1', 'Answer 3 to case 1'],
      ['Answer 1 to case 1', 'Answer 4 to case 1'],
      ['Answer 2 to case 1', 'Answer 4 to case 1'],
      ['Answer 3 to case 1', 'Answer 4 to case 1'],
    ]);
    expect(pairs.every((p) => p.annotator === 'Ann')).toBe(true);

    // The reward model's loader sees the same five, plus a pairwise vote with a winner (a tie gives none).
    const ab = f.project.labeling.createTask({
      name: 'ab',
      mode: 'pairwise',
      k: 2,
      minAnnotators: 1,
      items: f.prompts.slice(1).map((p) => ({ promptId: p.id, responseIds: p.responses.slice(0, 2) })),
    });
    const [x, y] = f.project.labeling.items(ab.id);
    f.project.labeling.castVote(x!.id, bob, { outcome: 'b', flags: [], comment: '', seconds_spent: 2 });
    f.project.labeling.castVote(y!.id, bob, { outcome: 'tie', flags: [], comment: '', seconds_spent: 2 });
    const rm = loadPreferenceData(f.project.db, { includeCompareVotes: false, marginPerTierGap: 0 });
    expect(rm.votes).toHaveLength(6);
    expect(rm.votes[5]).toMatchObject({ annotator_id: bob, chosen: x!.response_ids[1], rejected: x!.response_ids[0] });
  });

  it('keeps the guidelines', () => {
    expect(f.project.labeling.guidelines()).toEqual({ markdown: '', updated_at: null });
    f.project.labeling.setGuidelines('# Be kind\nPrefer answers with a concrete step.');
    expect(f.project.labeling.guidelines().markdown).toContain('concrete step');
  });
});
