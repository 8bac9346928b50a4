// Text in, text out: sampling from a stored checkpoint with the playground's settings. Used by the
// `generate` CLI command and the `generate` job behind the Models view's playground.
import { z } from 'zod';
import { loadModel } from '../io/checkpoint-io.js';
import { generate } from './generate.js';
import type { Project } from '../../store/project.js';

export const samplingSettingsSchema = z
  .object({
    temperature: z.number().min(0).max(10).default(0.7),
    top_k: z.number().int().min(0).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    max_tokens: z.number().int().min(1).max(4096).default(64),
    seed: z.number().int().min(0).default(0),
    /** Samples for the same prompt. */
    n: z.number().int().min(1).max(64).default(1),
    /** Wrap the prompt as a chat turn (user header … assistant header), as SFT on `messages` data trains. */
    chat: z.boolean().default(false),
  })
  .strict();

export type SamplingSettings = z.infer<typeof samplingSettingsSchema>;

export interface SampleResult {
  texts: string[];
  /** Whether each sample ended with EOS (rather than at max_tokens). */
  finished: boolean[];
  tokens: number;
  tokens_per_second: number;
}

/**
 * Samples `n` continuations of `prompt`. The prompt is the model's input as-is (what SFT trained
 * on for prompt/completion data), or a chat turn with `chat`; an empty plain prompt starts from
 * EOS, GPT-2's document boundary.
 * `onText(i, text)` receives sample i's text so far after every token.
 */
export function sampleText(
  project: Project,
  checkpointId: number,
  prompt: string,
  settings: SamplingSettings,
  onText?: (sample: number, text: string) => void,
): SampleResult {
  const { model, tokenizer } = loadModel(project, checkpointId);
  try {
    let ids = settings.chat
      ? tokenizer.chatPromptIds(prompt)
      : prompt.length > 0
        ? tokenizer.encode(prompt)
        : [tokenizer.eosId];
    // Keep room for the answer: the prompt loses tokens from the left first.
    const room = Math.max(1, model.config.n_positions - Math.min(settings.max_tokens, model.config.n_positions - 1));
    ids = ids.slice(Math.max(0, ids.length - room));
    const sofar: number[][] = Array.from({ length: settings.n }, () => []);
    const started = performance.now();
    const out = generate(
      model,
      Array.from({ length: settings.n }, () => ids),
      {
        maxNewTokens: settings.max_tokens,
        temperature: settings.temperature,
        topK: settings.top_k,
        topP: settings.top_p,
        eosId: tokenizer.eosId,
        padId: tokenizer.padId,
        seed: settings.seed,
        onToken: onText
          ? (b, id) => {
              sofar[b]!.push(id);
              onText(b, tokenizer.decode(sofar[b]!, { skipSpecial: true }));
            }
          : undefined,
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const tokens = out.tokens.reduce((a, t) => a + t.length, 0);
    return {
      texts: out.tokens.map((t) => tokenizer.decode(t, { skipSpecial: true })),
      finished: out.finished,
      tokens,
      tokens_per_second: tokens / Math.max(seconds, 1e-9),
    };
  } finally {
    model.dispose();
  }
}
