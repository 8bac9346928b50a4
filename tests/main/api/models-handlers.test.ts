// models.cached / models.import / models.list / models.export through the router: the local Hugging Face cache
// ($HF_HOME/hub) is listed with what each snapshot is, one is imported from it without touching
// the network, and the checkpoint list shows family, parameters, source dtype, adapter and base.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiContext, AppServices } from '../../../src-main/api/context.js';
import { modelsHandlers } from '../../../src-main/api/handlers/models.js';
import { dispatch } from '../../../src-main/api/router.js';
import type { CachedModelRow, CheckpointRow, JobInfo, JobProgress } from '../../../src-main/shared/contract.js';
import { runJobInProcess } from '../../../src-main/jobs/run-in-process.js';
import type { Project } from '../../../src-main/store/project.js';
import { tempProject } from '../store/temp-project.js';
import { addToFakeHfCache } from './fake-hf-cache.js';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { importWithAdapter } from '../../../src-main/engine/io/adapter-io.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const LLAMA = '1'.repeat(40);
const QWEN = '2'.repeat(40);
const BERT = '3'.repeat(40);
const NO_WEIGHTS = '4'.repeat(40);
const saved = { HF_HOME: process.env.HF_HOME, HF_HUB_CACHE: process.env.HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE: process.env.HUGGINGFACE_HUB_CACHE };
let hub: string;

function context(project: Project) {
  const jobs: Array<{ done: Promise<unknown>; progress: JobProgress[] }> = [];
  const app: AppServices = {
    project: () => project,
    hasProject: () => true,
    openProject: () => project,
    startJob(kind, params, label): JobInfo {
      const progress: JobProgress[] = [];
      const done = runJobInProcess(kind, params, project, (p) => progress.push(p)).then((r) => r, (e: Error) => ({ error: e.message }));
      jobs.push({ done, progress });
      return { id: String(jobs.length), kind, label, status: 'running', progress: null };
    },
    emit: () => {},
  };
  const ctx: ApiContext = { app, annotatorId: null };
  return { jobs, call: async <T>(method: string, input: unknown) => {
    const r = await dispatch(modelsHandlers, method, input, ctx);
    if (!r.ok) throw new Error(JSON.stringify(r));
    return r.value as T;
  } };
}

describe('models API and the local Hugging Face cache', () => {
  beforeAll(() => {
    const home = mkdtempSync(join(tmpdir(), 'hf-home-'));
    delete process.env.HF_HUB_CACHE;
    delete process.env.HUGGINGFACE_HUB_CACHE;
    process.env.HF_HOME = home;
    hub = join(home, 'hub');
    addToFakeHfCache(hub, { repo: 'tiny/llama-tiny', from: join(fixtures, 'llama-tiny'), commit: LLAMA, refs: ['main'] });
    addToFakeHfCache(hub, { repo: 'tiny/qwen2-tiny', from: join(fixtures, 'qwen2-tiny'), commit: QWEN });
    addToFakeHfCache(hub, { repo: 'google/bert-tiny', from: join(fixtures, 'gpt2-tiny'), commit: BERT, refs: ['main', 'v1'], config: { model_type: 'bert', architectures: ['BertModel'] } });
    addToFakeHfCache(hub, { repo: 'tiny/half', from: join(fixtures, 'gpt2-tiny'), commit: NO_WEIGHTS, refs: ['main'], omit: ['model.safetensors'] });
  });
  afterEach(() => vi.unstubAllGlobals());
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it('lists every cached snapshot with its model_type, dtype, size and whether it can be imported', async () => {
    const { call } = context(tempProject());
    const r = await call<{ cache_dir: string; models: CachedModelRow[]; skipped: string[] }>('models.cached', {});
    expect(r.cache_dir).toBe(hub);
    expect(r.skipped).toEqual([]);
    expect(r.models.map((m) => m.repo)).toEqual(['google/bert-tiny', 'tiny/half', 'tiny/llama-tiny', 'tiny/qwen2-tiny']);
    const byRepo = Object.fromEntries(r.models.map((m) => [m.repo, m]));
    const llamaBytes = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'].reduce((a, f) => a + statSync(join(fixtures, 'llama-tiny', f)).size, 0);
    expect(byRepo['tiny/llama-tiny']).toMatchObject({ commit: LLAMA, refs: ['main'], source: `hf:tiny/llama-tiny@${LLAMA}`, model_type: 'llama', dtype: 'BF16', problem: null, bytes: llamaBytes });
    // Two shards listed by an index; the dtype is read from their headers.
    expect(byRepo['tiny/qwen2-tiny']).toMatchObject({ refs: [], model_type: 'qwen2', dtype: 'F16', problem: null });
    expect(byRepo['google/bert-tiny']).toMatchObject({ refs: ['main', 'v1'], model_type: 'bert', problem: 'model_type "bert" is not supported (supported: gpt2, llama, qwen2, mistral)' });
    expect(byRepo['tiny/half']!.problem).toMatch(/no safetensors weights/);
  });

  it('imports a cached snapshot without the network, converting tensors with progress, and lists it with family, dtype and base', async () => {
    const project = tempProject();
    const { call, jobs } = context(project);
    const fetchSpy = vi.fn(() => Promise.reject(new Error('no network in this test')));
    vi.stubGlobal('fetch', fetchSpy);
    const { models } = await call<{ models: CachedModelRow[] }>('models.cached', {});
    for (const repo of ['tiny/llama-tiny', 'tiny/qwen2-tiny']) await call('models.import', { folder: models.find((m) => m.repo === repo)!.source });
    const [llama, qwen] = await Promise.all(jobs.map((j) => j.done));
    expect(llama).toEqual({ checkpoint: 1 });
    expect(qwen).toEqual({ checkpoint: 2 });
    expect(fetchSpy).not.toHaveBeenCalled();
    // Conversion counts tensors up to the file's total; across both shards for the Qwen2.
    const tensors = jobs[1]!.progress.filter((p) => p.unit === 'tensors');
    expect(tensors.at(-1)).toMatchObject({ done: tensors.at(-1)!.total });
    expect(tensors.map((p) => p.done)).toEqual(Array.from({ length: tensors.length }, (_, i) => i + 1));
    expect(jobs[1]!.progress.some((p) => p.unit === 'bytes')).toBe(false);

    const { checkpoints } = await call<{ checkpoints: CheckpointRow[] }>('models.list', {});
    expect(checkpoints[0]).toMatchObject({
      name: 'tiny/llama-tiny',
      family: 'llama',
      source_dtype: 'BF16',
      adapter: null,
      base: { id: 1, name: 'tiny/llama-tiny', imported_from: `hf:tiny/llama-tiny@${LLAMA}` },
    });
    expect(checkpoints[1]).toMatchObject({ family: 'qwen2', source_dtype: 'F16', base: { imported_from: `hf:tiny/qwen2-tiny@${QWEN}` } });
    // Parameters from the config: qwen2-tiny has 2 layers, hidden 32, 4 heads of 16, 1 KV head, MLP 40, vocab 300, untied.
    const layer = 32 + (32 * 64 + 64) + 2 * (32 * 16 + 16) + 64 * 32 + 32 + 3 * 32 * 40;
    expect(checkpoints[1]!.parameters).toBe(300 * 32 + 2 * layer + 32 + 300 * 32);
  });

  it('gives a derived checkpoint its base and lineage, and reads an adapter only from its metadata', async () => {
    const project = tempProject();
    const { call, jobs } = context(project);
    await call('models.import', { folder: `hf:tiny/llama-tiny@${LLAMA}`, name: 'llama base' });
    await jobs[0]!.done;
    const base = project.checkpoints.load(1);
    const child = project.checkpoints.save({ name: 'llama sft', stage: 'sft', parentId: 1, modelConfig: base.model_config, tokenizer: base.tokenizer, weights: base.weights });
    const adapter = { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'], base: 1 };
    project.checkpoints.save({ name: 'llama lora', stage: 'sft', parentId: child, modelConfig: base.model_config, tokenizer: base.tokenizer, weights: base.weights, extra: { adapter } });
    const { checkpoints } = await call<{ checkpoints: CheckpointRow[] }>('models.list', {});
    expect(checkpoints.map((c) => [c.name, c.lineage, c.base.id, c.base.imported_from, c.source_dtype, c.adapter])).toEqual([
      ['llama base', [], 1, `hf:tiny/llama-tiny@${LLAMA}`, 'BF16', null],
      ['llama sft', [1], 1, `hf:tiny/llama-tiny@${LLAMA}`, null, null],
      ['llama lora', [2, 1], 1, `hf:tiny/llama-tiny@${LLAMA}`, null, adapter],
    ]);
  });

  it('refuses an unsupported model_type with the supported ones', async () => {
    const { call, jobs } = context(tempProject());
    await call('models.import', { folder: `hf:google/bert-tiny@${BERT}` });
    expect(await jobs[0]!.done).toEqual({ error: expect.stringMatching(/model_type "bert" is not supported \(supported: gpt2, llama, qwen2, mistral\)/) });
  });

  it('exports a LoRA checkpoint as a PEFT folder, or merged as a full model', async () => {
    await initBackend();
    const project = tempProject();
    const { call, jobs } = context(project);
    const { adapter } = importWithAdapter(project, join(fixtures, 'llama-tiny'), join(fixtures, 'llama-tiny-lora'));
    const out = mkdtempSync(join(tmpdir(), 'export-'));
    await call('models.export', { checkpoint: adapter, folder: join(out, 'peft') });
    await call('models.export', { checkpoint: adapter, folder: join(out, 'merged'), merged: true });
    expect(await jobs[0]!.done).toMatchObject({ files: ['adapter_config.json', 'adapter_model.safetensors'] });
    expect(await jobs[1]!.done).toMatchObject({ files: expect.arrayContaining(['model.safetensors', 'config.json']) });
    expect(statSync(join(out, 'merged', 'model.safetensors')).size).toBeGreaterThan(statSync(join(out, 'peft', 'adapter_model.safetensors')).size);
  });
});
