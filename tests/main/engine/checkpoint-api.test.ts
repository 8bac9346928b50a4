import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import type { CheckpointRow, GenerateOutput, JobInfo } from '../../../src-main/shared/contract.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { Project } from '../../../src-main/store/project.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'gpt2-tiny');
let dir: string;
let services: Services;
const events: { event: string; payload: JobInfo }[] = [];
const ctx = (annotatorId: number | null = null): ApiContext => ({ app: services, annotatorId });
const call = (method: string, input: unknown, c = ctx()) => dispatch(handlers, method, input, c);
async function value<T>(method: string, input: unknown): Promise<T> {
  const r = await call(method, input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
}

function jobDone(job: JobInfo): Promise<JobInfo> {
  return new Promise<JobInfo>((res) => {
    const t = setInterval(() => {
      const d = events.find((e) => e.event === 'job.done' && e.payload.id === job.id);
      if (d) {
        clearInterval(t);
        res(d.payload);
      }
    }, 50);
  });
}
async function jobResult<T>(method: string, input: unknown): Promise<T> {
  const done = await jobDone(await value<JobInfo>(method, input));
  if (done.status !== 'completed') throw new Error(done.error ?? done.status);
  return done.result as T;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'models-api-'));
  const path = join(dir, 'p.rlhf');
  const project = Project.open(path, { create: true });
  for (const w of ['one fish', 'two fish', 'red fish', 'blue fish']) project.prompts.upsert(`Say ${w} please.`);
  project.close();
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'none.rlhf') });
  services.openProject(path);
  services.subscribe((event, payload) => void events.push({ event, payload: payload as JobInfo }));
});
afterAll(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('models API', () => {
  let base: number;
  let imported: number;

  it('creates a new model and imports a Hugging Face folder in the worker, listed with the backend', async () => {
    const r = await jobResult<{ checkpoint: number; vocab_size: number }>('models.new', { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 });
    base = r.checkpoint;
    imported = (await jobResult<{ checkpoint: number }>('models.import', { folder: fixture, name: 'gpt2-tiny' })).checkpoint;
    const list = await value<{ checkpoints: CheckpointRow[]; backend: { name: string; reason: string } }>('models.list', {});
    expect(list.backend.name).toMatch(/wasm|cpu|tensorflow/);
    expect(list.checkpoints.map((c) => c.id)).toEqual([base, imported]);
    const g = list.checkpoints[1]!;
    expect(g).toMatchObject({ name: 'gpt2-tiny', stage: 'base', model_config: { n_embd: 64, n_layer: 2 } });
    // wte 300·64 + wpe 64·64 + 2 layers · (12·64² + 13·64) + ln_f 2·64
    expect(g.parameters).toBe(300 * 64 + 64 * 64 + 2 * (12 * 64 * 64 + 13 * 64) + 128);
  });

  it('refuses bad input and LAN annotators', async () => {
    expect(await call('models.import', { folder: join(dir, 'missing') })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const llama = join(dir, 'llama');
    mkdirSync(llama);
    writeFileSync(join(llama, 'config.json'), JSON.stringify({ model_type: 'llama', vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 1 }));
    // GPT-2 field names in a Llama config: the Llama field at fault is named.
    const failed = await jobDone(await value<JobInfo>('models.import', { folder: llama }));
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/config.json: field hidden_size/) });
    writeFileSync(join(llama, 'config.json'), JSON.stringify({ model_type: 'phi3', vocab_size: 10 }));
    const other = await jobDone(await value<JobInfo>('models.import', { folder: llama }));
    expect(other).toMatchObject({ status: 'failed', error: expect.stringMatching(/model_type "phi3" is not supported \(supported: gpt2, llama, qwen2, mistral\)/) });
    expect(await call('models.new', { n_layer: 1, n_head: 3, n_embd: 16, n_positions: 32, vocab_size: 512 })).toMatchObject({ ok: false });
    expect(await call('models.delete', { checkpoint: base }, ctx(1))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('streams generated text through job progress and returns the samples', async () => {
    events.length = 0;
    const job = await value<JobInfo>('models.generate', { checkpoint: imported, prompt: 'the cat', max_tokens: 20, temperature: 1, seed: 3 });
    const done = await jobDone(job);
    expect(done.status).toBe('completed');
    const out = done.result as GenerateOutput;
    expect(out.texts.length).toBe(1);
    const progress = events.filter((e) => e.event === 'job.progress' && e.payload.id === job.id);
    expect(progress.length).toBeGreaterThan(0);
    expect(out.texts[0]!.startsWith(progress.at(-1)!.payload.progress!.message!)).toBe(true);
  });

  it('refuses to delete the base of a LoRA adapter that is not its child', async () => {
    const adapter = services.project().checkpoints.save({
      name: 'adapter on the base',
      stage: 'dpo',
      modelConfig: {},
      tokenizer: '{}',
      weights: new Uint8Array(8),
      extra: { adapter: { r: 4, alpha: 8, dropout: 0, targets: ['c_attn'], base } },
    });
    const refused = await call('models.delete', { checkpoint: base });
    expect(refused).toMatchObject({ ok: false, error: { code: 'conflict', message: `Checkpoint ${base} holds the base weights of the LoRA adapters ${adapter}; delete those first.` } });
    expect(await value('models.delete', { checkpoint: adapter })).toEqual({ deleted: true });
  });

  it('deletes a leaf checkpoint', async () => {
    expect(await value('models.delete', { checkpoint: base })).toEqual({ deleted: true });
    expect((await value<{ checkpoints: CheckpointRow[] }>('models.list', {})).checkpoints.map((c) => c.id)).toEqual([imported]);
  });
});
