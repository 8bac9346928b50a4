// The stage catalogue (src-main/train/stages.ts) is what every part reads: each stage name has an
// entry, a job that exists under the name the registry derives, a form whose every field is
// presented; through the API RLOO and GRPO offer their own settings with the engine's defaults,
// refuse a wrong parent or reward model, and Compare pairs the newest RLOO/GRPO policy with SFT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { createNewModel } from '../../../src-main/engine/io/new-model.js';
import { jobModuleUrl, jobRegistry } from '../../../src-main/jobs/registry.js';
import type { CompareOptions, StageInfo } from '../../../src-main/shared/contract.js';
import { runStages } from '../../../src-main/shared/vocabulary.js';
import { Project } from '../../../src-main/store/project.js';
import { jobKind, rlhfStages, stageInfo, stages } from '../../../src-main/train/stages.js';

let dir: string;
let services: Services;
let base: number;
const ctx: ApiContext = { app: undefined as unknown as Services, annotatorId: null };
const call = async (method: string, input: unknown) => dispatch(handlers, method, input, { ...ctx, app: services });
const value = async <T>(method: string, input: unknown): Promise<T> => {
  const r = await call(method, input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stages-'));
  const path = join(dir, 'p.rlhf');
  const project = Project.open(path, { create: true });
  project.sft.insert({ kind: 'completion', prompt: 'Spell cat:', completion: ' c a t' });
  base = createNewModel(project, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
  project.close();
  services = new Services({ dataDir: join(dir, 'home'), demoPath: join(dir, 'none.rlhf') });
  services.openProject(path);
});
afterAll(async () => {
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stage catalogue', () => {
  it('has one entry per stage name, each with its job in the registry and every form field presented', async () => {
    expect([...stages]).toEqual([...runStages]);
    expect(stages).toEqual(expect.arrayContaining(['rloo', 'grpo']));
    for (const stage of stages) {
      const entry = jobRegistry[jobKind(stage)]!;
      expect(entry, stage).toBeDefined();
      const mod = (await import(jobModuleUrl(entry))) as Record<string, unknown>;
      expect(typeof mod[entry.export], `${entry.module} exports ${entry.export}`).toBe('function');
      const info = stageInfo(stage);
      expect(info.colour).toMatch(/^#[0-9a-f]{6}$/);
      for (const f of info.fields) {
        expect(f.label, `${stage}.${f.key}`).not.toBe('');
        expect(['essentials', 'stage', 'lora', 'advanced']).toContain(f.group);
      }
    }
    // RLOO and GRPO badges read apart from every other stage's.
    for (const s of ['rloo', 'grpo'] as const) {
      const others = stages.filter((o) => o !== s).map((o) => stageInfo(o).colour);
      expect(others, s).not.toContain(stageInfo(s).colour);
    }
    expect(rlhfStages).toEqual(['ppo', 'dpo', 'rloo', 'grpo']);
  });

  it('offers RLOO and GRPO forms grouped, with the engine defaults and the reward model as a checkpoint field', async () => {
    const all = await value<StageInfo[]>('train.stages', {});
    const rloo = all.find((s) => s.stage === 'rloo')!;
    const grpo = all.find((s) => s.stage === 'grpo')!;
    const field = (s: StageInfo, key: string) => s.fields.find((f) => f.key === key)!;
    expect(rloo.checkpointFields).toEqual({ reward_model: 'rm' });
    expect(grpo.checkpointFields).toEqual({ reward_model: 'rm' });
    expect(rloo.from).toEqual(['sft']);
    expect(field(rloo, 'rloo_k')).toMatchObject({ default: 2, minimum: 2, group: 'essentials', label: 'Answers per prompt (k)' });
    expect(field(rloo, 'kl_estimator')).toMatchObject({ type: 'enum', options: ['k1', 'k3'], default: 'k1', group: 'stage' });
    expect(field(rloo, 'normalize_advantage')).toMatchObject({ type: 'boolean', default: false, group: 'stage' });
    expect(field(rloo, 'cliprange')).toMatchObject({ default: 0.2, group: 'stage' });
    expect(field(grpo, 'num_generations')).toMatchObject({ default: 4, group: 'essentials' });
    expect(field(grpo, 'beta')).toMatchObject({ default: 0.04, group: 'essentials' });
    expect(field(grpo, 'loss_type')).toMatchObject({ type: 'enum', options: ['grpo', 'bnpo', 'dr_grpo'], default: 'bnpo', group: 'stage' });
    expect(field(grpo, 'epsilon_high')).toMatchObject({ default: null, optional: true, group: 'stage' });
    expect(field(grpo, 'scale_rewards')).toMatchObject({ default: true, group: 'stage' });
    expect(field(grpo, 'num_iterations')).toMatchObject({ default: 1, group: 'stage' });
    expect(field(grpo, 'num_iterations').help).toMatch(/ratio/);
    // Fields the stage does not describe fall back to the common presentation.
    expect(field(grpo, 'seed')).toMatchObject({ label: 'Seed', group: 'advanced' });
  });

  it('refuses an RLOO run from a base model, a GRPO run against a policy as reward model, and a key of the other stage', async () => {
    expect(await call('train.start', { stage: 'rloo', from: base, config: { reward_model: base } })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/^A RLOO run starts from a sft checkpoint; #\d+ is base\.$/) },
    });
    const sft = services.project().checkpoints.save({ name: 'sft', stage: 'sft', parentId: base, modelConfig: {}, tokenizer: '{}', weights: new Uint8Array([1]) });
    expect(await call('train.start', { stage: 'grpo', from: sft, config: { reward_model: sft } })).toMatchObject({ ok: false, error: { message: 'reward_model must name a rm checkpoint.' } });
    const v = await value<{ errors: Record<string, string> }>('train.validate', { stage: 'grpo', config: { rloo_k: 3, reward_model: 1 } });
    expect(Object.keys(v.errors)).toEqual(['_']);
  });

  it('Compare pairs the newest SFT with the newest RLOO or GRPO checkpoint by default, and lists both', async () => {
    const p = services.project();
    const save = (name: string, stage: 'sft' | 'rloo' | 'grpo' | 'dpo') => p.checkpoints.save({ name, stage, parentId: base, modelConfig: {}, tokenizer: '{}', weights: new Uint8Array([1]) });
    const sft = save('sft 2', 'sft');
    save('dpo', 'dpo');
    const rloo = save('rloo', 'rloo');
    const options = await value<CompareOptions>('compare.options', {});
    expect(options.defaults).toEqual([sft, rloo]);
    const grpo = save('grpo', 'grpo');
    const again = await value<CompareOptions>('compare.options', {});
    expect(again.defaults).toEqual([sft, grpo]);
    expect(again.checkpoints.map((c) => c.stage)).toEqual(expect.arrayContaining(['rloo', 'grpo']));
  });
});

describe('the LoRA group', () => {
  it.each(stages)('%s offers rank, alpha, dropout and target modules in a "lora" group, full fine-tuning by default', (stage) => {
    const lora = stageInfo(stage).fields.filter((f) => f.group === 'lora');
    expect(lora.map((f) => [f.key, f.default])).toEqual([
      ['lora_r', 0],
      ['lora_alpha', 16],
      ['lora_dropout', 0],
      ['lora_targets', ''],
    ]);
  });

  it('the stages with a reference say it is the same weights with the adapters off; the reward model, that its head trains fully', () => {
    const help = (stage: (typeof stages)[number]) => stageInfo(stage).fields.find((f) => f.key === 'lora_r')!.help;
    for (const stage of ['ppo', 'dpo', 'rloo', 'grpo'] as const) expect(help(stage)).toMatch(/reference is then the same weights with them off/);
    expect(help('rm')).toMatch(/score head trains fully/);
  });
});
