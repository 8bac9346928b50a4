// project.stats and data.* through the router, as both transports call them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../src-main/shared/contract.js';
import type { ApiContext, AppServices } from '../../../src-main/api/context.js';
import { dataHandlers } from '../../../src-main/api/handlers/data.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import type { Project } from '../../../src-main/store/project.js';
import { tempDir, tempProject } from '../store/temp-project.js';

/** Services with one open project whose jobs run in-process; `jobs` holds their outcomes. */
function context(project: Project) {
  const jobs: Promise<unknown>[] = [];
  const app: AppServices = {
    project: () => project,
    hasProject: () => true,
    openProject: () => project,
    startJob(kind, params, label): JobInfo {
      jobs.push(runJobInProcess(kind, params, project).then((r) => r, (e: Error) => ({ error: e.message })));
      return { id: String(jobs.length), kind, label, status: 'running', progress: null };
    },
    emit: () => {},
  };
  const ctx: ApiContext = { app, annotatorId: null };
  return { ctx, jobs, call: (method: string, input: unknown) => dispatch(dataHandlers, method, input, ctx) };
}

describe('data API', () => {
  it('imports an uploaded text as a job, then browses and exports it', async () => {
    const project = tempProject();
    const { call, jobs } = context(project);
    const text = '{"prompt": "q1", "chosen": "good", "rejected": "bad"}\n{"prompt": "q2", "chosen": "yes", "rejected": "no"}\n';
    const started = await call('data.importText', { name: 'prefs.jsonl', text, as: 'preferences' });
    expect(started).toMatchObject({ ok: true, value: { kind: 'import', label: 'Import prefs.jsonl as preferences' } });
    expect(await jobs[0]).toEqual({ imported: 2, skipped: 0 });

    expect(await call('project.stats', {})).toMatchObject({ ok: true, value: { prompts: 2, responses: 4, rankings: 2, pairs: 2 } });
    const pairs = await call('data.pairs', { search: 'YES' });
    expect(pairs).toEqual({ ok: true, value: { rows: [{ prompt_id: 2, prompt: 'q2', chosen: 'yes', rejected: 'no', annotator: 'import', ranking_id: 2, comparison_id: null }], total: 1, offset: 0 } });
    expect(await call('data.prompts', { offset: 1, limit: 1 })).toMatchObject({ ok: true, value: { total: 2, rows: [{ text: 'q2', responses: 2, rankings: 1 }] } });
    expect(await call('data.responses', { promptId: 1 })).toMatchObject({ ok: true, value: [{ text: 'good', source: 'import' }, { text: 'bad' }] });
    expect(await call('data.exportText', { as: 'preferences' })).toEqual({
      ok: true,
      value: { name: 'preferences.jsonl', text: text.replace(/": "/g, '":"').replace(/", "/g, '","'), count: 2 },
    });
    const file = join(tempDir(), 'out.json');
    expect(await call('data.export', { file, as: 'rankings' })).toEqual({ ok: true, value: { path: file, count: 2 } });
    project.close();
  });

  it('reports bad files: the import job fails naming the line and writes nothing', async () => {
    const project = tempProject();
    const { call, jobs } = context(project);
    const file = join(tempDir(), 'bad.csv');
    writeFileSync(file, 'prompt,chosen,rejected\nq,a,b\nq2,a\n');
    expect((await call('data.import', { file, as: 'preferences' })).ok).toBe(true);
    expect(await jobs[0]).toEqual({ error: `${file}:3: invalid CSV (Invalid Record Length: columns length is 3, got 2)` });
    expect(await call('project.stats', {})).toMatchObject({ value: { prompts: 0 } });
    expect(await call('data.import', { file: join(tempDir(), 'missing.jsonl'), as: 'sft' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await call('data.export', { file: 'x.csv', as: 'sft' })).toMatchObject({ ok: false, error: { code: 'bad_file' } });
    expect(await call('data.exportText', { as: 'sft', format: 'hh' })).toMatchObject({ ok: false, error: { code: 'bad_format' } });
    expect(await call('data.pairs', { limit: 100000 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    project.close();
  });

  it('runs an import in the engine worker through the real services, announcing the result', async () => {
    const dir = tempDir();
    const services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'no-demo.rlhf') });
    const ctx: ApiContext = { app: services, annotatorId: null };
    try {
      await dispatch(handlers, 'project.create', { path: join(dir, 'w.rlhf') }, ctx);
      const done = new Promise<JobInfo>((resolve) =>
        services.subscribe((event, payload) => {
          if (event === 'job.done') resolve(payload as JobInfo);
        }),
      );
      const text = '{"prompt": "p", "responses": ["a", "b", "c"], "ranking": [1, 2, 2]}\n';
      expect(await dispatch(handlers, 'data.importText', { name: 'r.jsonl', text, as: 'rankings' }, ctx)).toMatchObject({ ok: true });
      expect(await done).toMatchObject({ kind: 'import', status: 'completed', result: { imported: 1, skipped: 0 } });
      expect(await dispatch(handlers, 'project.stats', {}, ctx)).toMatchObject({ ok: true, value: { rankings: 1, pairs: 2, responses: 3 } });
    } finally {
      await services.close();
    }
  });
});
