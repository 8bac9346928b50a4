// Deleting records with what depends on them shown first, and undo until the project closes:
// a run (its metrics go, its checkpoints stay unlinked), a prompt (its responses, rankings and
// the pairs they gave), an annotator with rankings, a label task; restore puts every row back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeleteRefused, deleteRecord, previewDelete } from '../../../src-main/data/delete.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let p: Project;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'delete-'));
  p = Project.open(join(dir, 'p.rlhf'), { create: true });
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = (table: string) => (p.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

function seedRankings() {
  const ann = p.annotators.ensure('ann');
  const prompts = ['Where is my parcel?', 'How do I reset my password?'].map((text) => {
    const id = p.prompts.upsert(text).id;
    const r = ['Track it here.', 'No idea.', 'Ask again.'].map((t) => p.responses.upsert({ promptId: id, text: `${t} ${id}`, source: 'human' }).id);
    p.preferences.insertRanking({ uid: `r${id}`, promptId: id, annotatorId: ann, ranking: [[r[0]!], [r[1]!], [r[2]!]], source: 'human' });
    return id;
  });
  return { ann, prompts };
}

describe('delete with undo', () => {
  it('a run: its metrics, samples and warnings go, its checkpoint stays unlinked; restore relinks it', () => {
    const run = p.runs.createRun({ stage: 'sft', name: 'failed sft', config: { lr: 1 }, status: 'failed' });
    for (let s = 1; s <= 5; s++) p.runs.logMetrics(run, s, { loss: 1 / s });
    p.runs.addSamples(run, 5, [{ prompt: 'q', response: 'a' }]);
    p.runs.addEvent(run, 2, 'long records', 'cut');
    const ckpt = p.db.prepare("INSERT INTO checkpoints (name, stage, model_config, tokenizer, weights, sha256, created_at, run_id) VALUES ('c', 'sft', '{}', '{}', x'00', 'x', 0, ?) RETURNING id").get(run) as { id: number };

    const preview = previewDelete(p, 'run', run);
    expect(preview.label).toBe(`run #${run} “failed sft”`);
    expect(preview.dependents.map((d) => d.what).sort()).toEqual(['1 checkpoints kept, unlinked', '1 logged samples deleted', '1 run warnings deleted', '5 metric points deleted']);

    const entry = deleteRecord(p, 'run', run);
    expect(p.runs.get(run)).toBeNull();
    expect(count('metrics')).toBe(0);
    expect(p.checkpoints.get(ckpt.id)!.run_id).toBeNull();
    expect(p.trash.list().map((e) => e.label)).toEqual([preview.label]);

    p.trash.restore(entry.id);
    expect(p.runs.get(run)).toMatchObject({ name: 'failed sft', status: 'failed' });
    expect(p.runs.metricsFor(run, ['loss']).loss!.map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);
    expect(p.runs.eventsFor(run).map((e) => e.kind)).toEqual(['long records']);
    expect(p.checkpoints.get(ckpt.id)!.run_id).toBe(run);
    expect(p.trash.list()).toEqual([]);
  });

  it('a prompt takes its responses, rankings and their pairs; restore gives the same pairs back', () => {
    const { prompts } = seedRankings();
    const pairsBefore = p.db.prepare('SELECT prompt_id, chosen_id, rejected_id FROM pairs ORDER BY chosen_id, rejected_id').all();
    expect(pairsBefore).toHaveLength(6);
    expect(previewDelete(p, 'prompt', prompts[0]!).dependents.filter((d) => d.effect === 'deleted').map((d) => d.what).sort()).toEqual(['1 rankings deleted', '3 preference pairs deleted', '3 responses deleted']);
    const entry = deleteRecord(p, 'prompt', prompts[0]!);
    expect(count('pairs')).toBe(3);
    p.trash.restore(entry.id);
    expect(p.db.prepare('SELECT prompt_id, chosen_id, rejected_id FROM pairs ORDER BY chosen_id, rejected_id').all()).toEqual(pairsBefore);
    expect(p.prompts.get(prompts[0]!)!.text).toBe('Where is my parcel?');
  });

  it('an annotator with rankings (a plain reference) goes with them, and comes back', () => {
    const { ann } = seedRankings();
    expect(previewDelete(p, 'annotator', ann).dependents.map((d) => d.what)).toEqual(['2 rankings deleted', '6 preference pairs deleted']);
    const entry = deleteRecord(p, 'annotator', ann);
    expect(count('rankings')).toBe(0);
    expect(count('pairs')).toBe(0);
    p.trash.restore(entry.id);
    expect(count('rankings')).toBe(2);
    expect(count('pairs')).toBe(6);
  });

  it('refuses a run still training, names a missing record, and an undo that would clash changes nothing', () => {
    const live = p.runs.createRun({ stage: 'sft', name: 'live', config: {}, status: 'running' });
    expect(() => deleteRecord(p, 'run', live)).toThrow(DeleteRefused);
    expect(() => previewDelete(p, 'sft', 999)).toThrow('There is no SFT example 999.');

    p.sft.insert({ kind: 'text', text: 'hello there' });
    const ex = [...p.sft.iterate()][0]!.id;
    const entry = deleteRecord(p, 'sft', ex);
    // The same example imported again after the delete: restoring the old row would duplicate it.
    p.sft.insert({ kind: 'text', text: 'hello there' });
    expect(() => p.trash.restore(entry.id)).toThrow();
    expect(count('sft_examples')).toBe(1);
    expect(p.trash.list()).toHaveLength(1);
  });
});
