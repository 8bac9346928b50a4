// Deleting through the API (as the app does) and the CLI: the preview lists what goes with the
// record, a teammate may not delete, the delete is announced and undone with data.restore; the
// CLI shows the same list and deletes only with --yes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { deleteCommand } from '../../../src-main/cli/commands/delete.js';
import { Project } from '../../../src-main/store/project.js';

let dir: string;
let services: Services;
const host = (): ApiContext => ({ app: services, annotatorId: null });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'delete-api-'));
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'no-demo.rlhf') });
});
afterEach(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

function seedTask(p: Project): number {
  const ann = p.annotators.ensure('ann');
  const prompt = p.prompts.upsert('Where is my parcel?').id;
  const r = ['Track it.', 'No idea.'].map((t) => p.responses.upsert({ promptId: prompt, text: t, source: 'human' }).id);
  const task = p.labelTasks.createTask({ name: 'Batch 1', mode: 'ranking', k: 2, minAnnotators: 1, items: [{ promptId: prompt, responseIds: r }] });
  const item = p.labelTasks.items(task.id)[0]!;
  p.judgments.submit(item.id, ann, { ranking: [[r[0]!], [r[1]!]], flags: [], comment: '', seconds_spent: 3 });
  return task.id;
}

describe('data.delete', () => {
  it('previews, deletes with an announcement, refuses a teammate, and restores', async () => {
    await dispatch(handlers, 'project.create', { path: join(dir, 'p.rlhf') }, host());
    const p = services.project();
    const task = seedTask(p);
    const events: string[] = [];
    services.subscribe((event) => void events.push(event));

    const preview = await dispatch(handlers, 'data.deletePreview', { kind: 'task', id: task }, host());
    expect(preview).toEqual({ ok: true, value: { label: `label task #${task} “Batch 1”`, dependents: [expect.objectContaining({ what: '1 label items deleted' }), expect.objectContaining({ what: '1 rankings kept, unlinked' })] } });
    const teammate = await dispatch(handlers, 'data.delete', { kind: 'task', id: task }, { app: services, annotatorId: 1 });
    expect(teammate).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    const deleted = await dispatch(handlers, 'data.delete', { kind: 'task', id: task }, host());
    expect(deleted).toMatchObject({ ok: true, value: { kind: 'task', recordId: task } });
    expect(p.labelTasks.tasks()).toEqual([]);
    // The ranking stays (training data), unlinked from the deleted item.
    expect((p.db.prepare('SELECT count(*) AS n FROM rankings WHERE item_id IS NULL').get() as { n: number }).n).toBe(1);
    expect(events).toContain('data.changed');
    const trash = await dispatch(handlers, 'data.trash', {}, host());
    expect(trash).toMatchObject({ ok: true, value: [{ label: `label task #${task} “Batch 1”` }] });

    const restored = await dispatch(handlers, 'data.restore', { trashId: (deleted as { value: { id: number } }).value.id }, host());
    expect(restored).toMatchObject({ ok: true });
    expect(p.labelTasks.tasks().map((t) => t.name)).toEqual(['Batch 1']);
    expect((p.db.prepare('SELECT count(*) AS n FROM rankings WHERE item_id IS NOT NULL').get() as { n: number }).n).toBe(1);
    expect(await dispatch(handlers, 'data.delete', { kind: 'task', id: 999 }, host())).toMatchObject({ ok: false, error: { code: 'not_found', message: 'There is no label task 999.' } });
  });
});

describe('rlhf-lab delete', () => {
  it('shows what goes with the record and deletes only with --yes', async () => {
    const file = join(dir, 'cli.rlhf');
    const p = Project.open(file, { create: true });
    const task = seedTask(p);
    p.close();
    const outputs: string[] = [];
    const io: CommandIO = { json: false, out: (_v, human) => void outputs.push(human ?? ''), progress: () => {}, err: () => {} };
    expect(await deleteCommand.run([file, 'task', String(task)], io)).toBe(0);
    expect(outputs[0]).toBe(`label task #${task} “Batch 1”\n  1 label items deleted\n  1 rankings kept, unlinked\nnothing deleted: add --yes to delete (the command line has no undo)`);
    expect(await deleteCommand.run([file, 'task', String(task), '--yes'], io)).toBe(0);
    expect(outputs[1]).toMatch(/^deleted label task #\d+ “Batch 1”/);
    const after = Project.open(file);
    expect(after.labelTasks.tasks()).toEqual([]);
    after.close();
    await expect(deleteCommand.run([file, 'planet', '1'], io)).rejects.toThrow(/kind "planet" is not one of run, prompt/);
  });
});
