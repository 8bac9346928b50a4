// A demo project in miniature for tests: the real corpus generator and data writer, a tokenizer
// trained on the corpus and an untrained one-layer GPT as the base checkpoint.
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { saveModel } from '../../../src-main/engine/io/checkpoint-io.js';
import { GPT } from '../../../src-main/engine/models/model.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { TextTokenizer } from '../../../src-main/engine/models/tokenizer.js';
import { buildCorpus } from '../../../src-main/demo/corpus.js';
import { writeDemoData } from '../../../src-main/demo/project.js';
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
