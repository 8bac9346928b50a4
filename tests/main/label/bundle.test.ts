import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labelCommand } from '../../../src-main/cli/commands/label.js';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { exportBundle, importBundle, parseBundle } from '../../../src-main/label/bundle.js';
import { makeProject, type Fixture } from './fixture.js';
import { InputError } from '../../../src-main/shared/errors.js';

const open: Fixture[] = [];
afterEach(() => open.splice(0).forEach((f) => f.cleanup()));
function project(n = 3) {
  const f = makeProject(n, 4);
  open.push(f);
  return f;
}

/** Two copies of one labeling setup, as when a teammate labels on another machine. */
function labeledOn(f: Fixture, who: string, tiesFirst: boolean) {
  const lab = f.project.labeling;
  const id = f.project.annotators.ensure(who, { colour: '#17bebb' });
  let task = lab.tasks().find((t) => t.name === 'batch');
  task ??= lab.createTask({
    name: 'batch',
    mode: 'ranking',
    k: 4,
    minAnnotators: 2,
    items: f.prompts.map((p) => ({ promptId: p.id, responseIds: p.responses })),
  });
  const items = lab.items(task.id);
  const ids = items[0]!.response_ids;
  lab.submit(items[0]!.id, id, {
    ranking: tiesFirst ? [[ids[0]!, ids[1]!], [ids[2]!], [ids[3]!]] : ids.map((x) => [x]),
    flags: ['unsafe'],
    comment: `by ${who}`,
    seconds_spent: 9,
  });
  lab.skip(items[1]!.id, id, 2);
  lab.saveDraft(items[2]!.id, id, { ranking: [[items[2]!.response_ids[0]!]], flags: [], comment: '', seconds_spent: 1 });
  return { task, id };
}

describe('annotation bundles', () => {
  it('merge judgments made elsewhere into the project’s task, without duplicates on re-import', () => {
    const home = project();
    const away = project();
    const { task } = labeledOn(home, 'Ann', false);
    labeledOn(away, 'Bob', true);

    const bundle = parseBundle(JSON.stringify(exportBundle(away.project)));
    expect(bundle.rankings).toHaveLength(2); // the submission and the skip; drafts stay private
    const first = importBundle(home.project, bundle);
    expect(first).toEqual({ annotators: 1, rankings: 2, votes: 0, duplicates: 0, prompts: 0, responses: 0 });
    const again = importBundle(home.project, bundle);
    expect(again).toMatchObject({ rankings: 0, duplicates: 2, annotators: 0 });

    // Bob's submission landed on the same item as Ann's: the item is done (min 2) and the tie is kept.
    const bob = home.project.annotators.byName('Bob')!;
    const item = home.project.labeling.items(task.id)[0]!;
    const merged = home.project.labeling.ranking(item.id, bob.id)!;
    const ids = item.response_ids;
    expect(merged).toMatchObject({ status: 'submitted', ranking: [[ids[0], ids[1]], [ids[2]], [ids[3]]], flags: ['unsafe'], comment: 'by Bob' });
    const marks = home.project.labeling.marks(task.id);
    expect(marks.filter((m) => m.itemId === item.id && m.status === 'submitted')).toHaveLength(2);
  });

  it('brings prompts and responses the project lacks', () => {
    const away = project(3);
    labeledOn(away, 'Bob', false);
    const empty = project(0);
    const r = importBundle(empty.project, parseBundle(JSON.stringify(exportBundle(away.project))));
    expect(r).toMatchObject({ rankings: 2, prompts: 2, responses: 8 });
    expect([...empty.project.preferences.iteratePairs()]).toHaveLength(6);
  });

  it('merges pairwise votes onto the matching item, whatever side each response was shown on', () => {
    const home = project();
    const away = project();
    for (const f of [home, away]) {
      f.project.labeling.createTask({
        name: 'ab',
        mode: 'pairwise',
        k: 2,
        minAnnotators: 2,
        items: f.prompts.map((p) => ({ promptId: p.id, responseIds: p.responses.slice(0, 2) })),
      });
    }
    const cara = away.project.annotators.ensure('Cara');
    const item = away.project.labeling.items(away.project.labeling.tasks()[0]!.id)[0]!;
    away.project.labeling.castVote(item.id, cara, { outcome: 'b', flags: ['should_say_idk'], comment: 'A guesses', seconds_spent: 4 });
    const bundle = parseBundle(JSON.stringify(exportBundle(away.project)));
    expect(importBundle(home.project, bundle)).toMatchObject({ votes: 1, duplicates: 0, annotators: 1 });
    expect(importBundle(home.project, bundle)).toMatchObject({ votes: 0, duplicates: 1 });
    const homeTask = home.project.labeling.tasks()[0]!;
    const marks = home.project.labeling.marks(homeTask.id);
    expect(marks).toHaveLength(1);
    const vote = marks[0]!.vote!;
    const winner = vote.outcome === 'a' ? vote.a : vote.b;
    expect(home.project.responses.get(winner)!.text).toBe('Answer 2 to case 1');
  });

  it('refuses a file that is not a bundle, naming the field', () => {
    expect(() => parseBundle('{"format":"rlhf-lab/annotations","version":1,"exported_at":1,"annotators":[],"rankings":[{"uid":"x"}],"votes":[]}')).toThrow(
      /rankings\.0\./,
    );
    expect(() => parseBundle('not json')).toThrow(/not JSON/);
  });

  it('round-trips through the CLI', async () => {
    const home = project();
    const away = project();
    labeledOn(home, 'Ann', true);
    labeledOn(away, 'Bob', false);
    const file = join(away.dir, 'bundle.json');
    const out: unknown[] = [];
    const io: CommandIO = { json: true, out: (v) => void out.push(v), progress: () => {}, err: () => {} };
    expect(await labelCommand.run(['export-bundle', away.project.path, file, '--json'], io)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).format).toBe('rlhf-lab/annotations');
    expect(await labelCommand.run(['import-bundle', home.project.path, file, '--json'], io)).toBe(0);
    expect(out[1]).toMatchObject({ rankings: 2, duplicates: 0 });
    await expect(labelCommand.run(['import-bundle', home.project.path, join(away.dir, 'missing.json')], io)).rejects.toThrow(InputError);

    // Bob's ranking landed on the item Ann ranked at home: they count together.
    expect(await labelCommand.run(['status', home.project.path, '--json'], io)).toBe(0);
    const status = out[2] as { tasks: { name: string; overall: { submissions: number }; agreement: { items: number; metric: string } }[] };
    expect(status.tasks[0]).toMatchObject({ name: 'batch', overall: { submissions: 2 }, agreement: { items: 1, metric: 'ordinal' } });
  });
});
