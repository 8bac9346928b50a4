// A demo project in miniature for tests: the real corpus generator and data writer, a tokenizer
// trained on the corpus and an untrained one-layer GPT as the base checkpoint.
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { saveModel } from '../../../src-main/engine/io/checkpoint-io.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { TextTokenizer } from '../../../src-main/engine/models/tokenizer.js';
import { buildCorpus } from '../../../src-main/demo/corpus.js';
import { writeDemoData } from '../../../src-main/demo/project.js';
import type { DemoSettings } from '../../../src-main/demo/pipeline.js';
import { Project } from '../../../src-main/store/project.js';

export async function makeTinyDemo(file: string, seed = 1): Promise<{ base: number; other: number }> {
  await initBackend();
  const corpus = buildCorpus(new Rng(seed), { trainPrompts: 40, evalPrompts: 16, sftExamples: 40, pretrainTexts: 300, validationPrompts: 16 });
  const tok = TextTokenizer.train(corpus.pretrain.flatMap((p) => [p.prompt, p.completion]), 512);
  const config = { vocab_size: tok.vocabSize, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2, layer_norm_epsilon: 1e-5, dropout: 0 };
  const p = Project.open(file, { create: true });
  try {
    writeDemoData(p, corpus, seed);
    const a = GPT.create(config, seed);
    const b = GPT.create(config, seed + 1);
    const base = saveModel(p, { name: 'tiny-base', stage: 'base', model: a, tokenizer: tok });
    const other = saveModel(p, { name: 'tiny-other', stage: 'sft', model: b, tokenizer: tok, parentId: base });
    a.dispose();
    b.dispose();
    return { base, other };
  } finally {
    p.close();
  }
}

/** Stage settings that fit the miniature project: each stage a step or two. */
export const TINY_DEMO_SETTINGS: DemoSettings = {
  sft: { seed: 1, epochs: 1, batch_size: 8, lr: 1e-3, eval_every: 100, checkpoint_every: 1000 },
  labels: { prompts: 8, k: 3, samples: 4, temperature: 1, max_new_tokens: 8, annotators_per_item: 2 },
  rm: { seed: 1, epochs: 1, batch_prompts: 4, lr: 1e-3, eval_fraction: 0.25, norm_samples: 4, norm_max_new_tokens: 6, checkpoint_every: 1000 },
  ppo: { seed: 1, steps: 2, batch_size: 4, num_mini_batches: 2, num_ppo_epochs: 1, lr: 1e-4, max_new_tokens: 6, sample_every: 1, checkpoint_every: 1000 },
  rloo: { seed: 1, steps: 2, prompts_per_step: 2, rloo_k: 2, lr: 1e-4, max_new_tokens: 6, sample_every: 1, checkpoint_every: 1000 },
  grpo: { seed: 1, steps: 2, prompts_per_step: 2, num_generations: 2, lr: 1e-4, max_new_tokens: 6, sample_every: 1, checkpoint_every: 1000 },
  kl_bound: 9,
  compare: { prompts: 8, temperature: 0.7, max_new_tokens: 6, best_of_n: [2] },
};
