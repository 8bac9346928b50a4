import { describe, expect, it } from 'vitest';
import { tempProject } from './temp-project.js';

describe('project repositories', () => {
  it('keep one prompt per text and one response per prompt and text', () => {
    const p = tempProject();
    const a = p.prompts.upsert('Why is the sky blue?', { split: 'eval' });
    const b = p.prompts.upsert('Why is the sky blue?');
    expect(a.created).toBe(true);
    expect(b).toEqual({ id: a.id, created: false });
    expect(p.prompts.get(a.id)?.split).toBe('eval');
    const r1 = p.responses.upsert({ promptId: a.id, text: 'Rayleigh scattering', source: 'human' });
    const r2 = p.responses.upsert({ promptId: a.id, text: 'Rayleigh scattering', source: 'import' });
    expect(r2.id).toBe(r1.id);
    expect(p.responses.forPrompt(a.id)).toHaveLength(1);
    p.close();
  });

  it('count pairs as C(K,2) minus ties per submitted ranking plus comparisons with a winner', () => {
    const p = tempProject();
    const ann = p.annotators.ensure('alice');
    const prompt = p.prompts.upsert('q').id;
    const ids = ['r1', 'r2', 'r3', 'r4'].map((t) => p.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
    // K=4 with r2 and r3 tied: C(4,2) − 1 = 5 pairs.
    p.preferences.insertRanking({ uid: 'a', promptId: prompt, annotatorId: ann, ranking: [[ids[0]!], [ids[1]!, ids[2]!], [ids[3]!]], source: 'human' });
    const insertVote = p.db.prepare(
      "INSERT INTO comparisons (uid, prompt_id, response_a, response_b, outcome, annotator_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 0)",
    );
    insertVote.run('v1', prompt, ids[0], ids[1], 'b', ann);
    insertVote.run('v2', prompt, ids[0], ids[2], 'tie', ann);
    insertVote.run('v3', prompt, ids[0], ids[3], 'both_bad', ann);
    const stats = p.stats.counts();
    expect(stats).toMatchObject({ prompts: 1, responses: 4, rankings: 1, pairs: 6, comparisons: 3, annotators: 1 });
    const rows = p.preferences.pairsPage({ offset: 0, limit: 50 }).rows.map((r) => `${r.chosen}>${r.rejected}`);
    expect(rows).toEqual(['r1>r2', 'r1>r3', 'r1>r4', 'r2>r4', 'r3>r4', 'r2>r1']);
    expect(p.stats.byAnnotator()).toEqual([{ name: 'alice', simulated: false, rankings: 1, comparisons: 3 }]);
    p.close();
  });

  it('drop a ranking’s pairs when it goes back to draft or is deleted', () => {
    const p = tempProject();
    const ann = p.annotators.ensure('bob');
    const prompt = p.prompts.upsert('q').id;
    const [a, b] = ['x', 'y'].map((t) => p.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
    p.preferences.insertRanking({ uid: 'u', promptId: prompt, annotatorId: ann, ranking: [[a!], [b!]], source: 'human' });
    expect(p.stats.counts().pairs).toBe(1);
    p.db.prepare("UPDATE rankings SET status = 'draft'").run();
    expect(p.stats.counts().pairs).toBe(0);
    p.db.prepare("UPDATE rankings SET status = 'submitted', ranking = ?").run(JSON.stringify([[b], [a]]));
    expect(p.preferences.pairsPage({ offset: 0, limit: 5 }).rows[0]).toMatchObject({ chosen: 'y', rejected: 'x', annotator: 'bob' });
    p.db.prepare('DELETE FROM rankings').run();
    expect(p.stats.counts().pairs).toBe(0);
    p.close();
  });

  it('page and search prompts and pairs (case-insensitive substring)', () => {
    const p = tempProject();
    const ann = p.annotators.ensure('import');
    p.db.transaction(() => {
      for (let i = 0; i < 120; i++) {
        const prompt = p.prompts.upsert(`Question ${i}: ${i % 10 === 0 ? 'Photosynthesis' : 'arithmetic'}?`, { split: i % 4 === 0 ? 'eval' : 'train' }).id;
        const c = p.responses.upsert({ promptId: prompt, text: `good ${i}`, source: 'import' }).id;
        const r = p.responses.upsert({ promptId: prompt, text: i === 7 ? 'a 50%_off answer' : `bad ${i}`, source: 'import' }).id;
        p.preferences.insertRanking({ uid: `u${i}`, promptId: prompt, annotatorId: ann, ranking: [[c], [r]], source: 'import' });
      }
    })();
    const page = p.prompts.page({ offset: 100, limit: 50 });
    expect(page.total).toBe(120);
    expect(page.rows).toHaveLength(20);
    expect(page.rows[0]).toMatchObject({ text: 'Question 100: Photosynthesis?', responses: 2, rankings: 1 });
    expect(p.prompts.page({ search: 'photoSYNTH', offset: 0, limit: 50 }).total).toBe(12);
    expect(p.prompts.page({ search: 'photosynth', split: 'eval', offset: 0, limit: 50 }).total).toBe(6);
    const short = p.prompts.page({ search: '1:', offset: 0, limit: 50 });
    expect(short.total).toBe(12); // 1:, 11:, 21:, …, 111:
    expect(short.rows.every((r) => r.text.includes('1:'))).toBe(true);
    expect(p.preferences.pairsPage({ search: 'good 11', offset: 0, limit: 50 }).rows.map((r) => r.chosen)).toEqual([
      'good 11',
      ...Array.from({ length: 10 }, (_, i) => `good ${110 + i}`),
    ]);
    // LIKE wildcards typed by the user match themselves.
    expect(p.preferences.pairsPage({ search: '50%_', offset: 0, limit: 50 }).rows.map((r) => r.rejected)).toEqual(['a 50%_off answer']);
    expect(p.preferences.pairsPage({ search: '%', offset: 0, limit: 50 }).total).toBe(1);
    const deep = p.preferences.pairsPage({ offset: 110, limit: 50 });
    expect(deep.total).toBe(120);
    expect(deep.rows[0]).toMatchObject({ prompt: 'Question 110: Photosynthesis?', chosen: 'good 110', annotator: 'import' });
    p.close();
  });

  it('skip SFT records already present', () => {
    const p = tempProject();
    expect(p.sft.insert({ kind: 'text', text: 'hello' })).toBe(true);
    expect(p.sft.insert({ kind: 'text', text: 'hello' })).toBe(false);
    expect(p.sft.insert({ kind: 'messages', messages: [{ role: 'user', content: 'hi' }] }, 'eval')).toBe(true);
    expect(p.sft.page({ search: 'hi', offset: 0, limit: 10 }).rows).toMatchObject([{ kind: 'messages', text: 'user: hi', split: 'eval' }]);
    expect(p.stats.counts().sft_examples).toBe(2);
    p.close();
  });
});
