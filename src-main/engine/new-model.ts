// A new tiny model for a project: a byte-level BPE trained on the project's own texts (prompts,
// responses, SFT examples) and a randomly initialised GPT, stored as a 'base' checkpoint.
import { z } from 'zod';
import { saveModel } from './checkpoint-io.js';
import { GPT, gptConfigSchema } from './model.js';
import { MAX_TRAINED_VOCAB, MIN_TRAINED_VOCAB, TextTokenizer } from './tokenizer.js';
import type { Project } from '../store/project.js';

export const newModelSchema = z
  .object({
    n_layer: z.number().int().min(1).max(48).default(4),
    n_head: z.number().int().min(1).max(64).default(4),
    n_embd: z.number().int().min(8).max(4096).default(128),
    /** Context length (n_positions). */
    n_positions: z.number().int().min(8).max(4096).default(256),
    /** Requested tokenizer vocabulary; a small corpus may yield fewer merges. */
    vocab_size: z.number().int().min(MIN_TRAINED_VOCAB).max(MAX_TRAINED_VOCAB).default(2048),
    dropout: z.number().min(0).max(0.9).default(0),
    seed: z.number().int().min(0).default(0),
    name: z.string().min(1).max(200).optional(),
  })
  .strict();

export type NewModelOptions = z.input<typeof newModelSchema>;

/** Every text of the project, for tokenizer training. */
export function projectTexts(project: Project): string[] {
  const texts: string[] = [];
  for (const p of project.prompts.iterate()) {
    texts.push(p.text);
    for (const r of project.responses.forPrompt(p.id)) texts.push(r.text);
  }
  for (const ex of project.sft.iterate()) {
    if (ex.kind === 'completion') texts.push(ex.prompt, ex.completion);
    else if (ex.kind === 'messages') texts.push(...ex.messages.map((m) => m.content));
    else texts.push(ex.text);
  }
  return texts;
}

export function createNewModel(project: Project, options: NewModelOptions): { checkpoint: number; vocabSize: number; parameters: number } {
  const o = newModelSchema.parse(options);
  const texts = projectTexts(project);
  if (texts.length === 0) throw new Error('the project has no texts to train a tokenizer on: import prompts or SFT examples first');
  const tokenizer = TextTokenizer.train(texts, o.vocab_size);
  const config = gptConfigSchema.parse({
    vocab_size: tokenizer.vocabSize,
    n_positions: o.n_positions,
    n_embd: o.n_embd,
    n_layer: o.n_layer,
    n_head: o.n_head,
    dropout: o.dropout,
  });
  const model = GPT.create(config, o.seed);
  try {
    const checkpoint = saveModel(project, {
      name: o.name ?? `base ${o.n_layer}L-${o.n_embd}d`,
      stage: 'base',
      model,
      tokenizer,
      extra: { created: { ...o, texts: texts.length } },
    });
    return { checkpoint, vocabSize: tokenizer.vocabSize, parameters: model.parameterCount() };
  } finally {
    model.dispose();
  }
}
