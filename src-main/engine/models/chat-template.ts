// An Instruct model's chat template (tokenizer_config.json `chat_template`, or chat_template.jinja)
// rendered with @huggingface/jinja, as transformers' apply_chat_template does: the messages, the
// special tokens by name, `add_generation_prompt`. Conversations become token ids with a target
// mask covering the assistant turns only (their text and the template's end-of-turn tokens).
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: string;
  content: string;
}

/** The template's source and the special tokens it may refer to (bos_token, eos_token…). */
export interface ChatTemplateSpec {
  template: string;
  specialTokens: Record<string, string>;
}

export class ChatTemplate {
  private readonly compiled: Template;

  constructor(readonly spec: ChatTemplateSpec) {
    try {
      this.compiled = new Template(spec.template);
    } catch (e) {
      throw new Error(`chat_template does not parse: ${(e as Error).message}`);
    }
  }

  /** The conversation as the template writes it. */
  render(messages: ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.compiled.render({ ...this.spec.specialTokens, messages, add_generation_prompt: addGenerationPrompt });
    } catch (e) {
      throw new Error(`chat_template failed to render: ${(e as Error).message}`);
    }
  }

  /**
   * The conversation as text segments, each a training target or not: an assistant turn is what
   * rendering it adds after the conversation so far with the generation prompt (its content and
   * end-of-turn). Templates that rewrite earlier turns when a later one is added (so no turn is a
   * suffix) are refused: no mask could say which tokens the assistant wrote.
   */
  segments(messages: ChatMessage[]): Array<{ text: string; target: boolean }> {
    const out: Array<{ text: string; target: boolean }> = [];
    let done = '';
    const take = (upTo: string, target: boolean, turn: number) => {
      if (!upTo.startsWith(done)) throw new Error(`the chat template does not render turn ${turn + 1} as a continuation of the turns before it; assistant-only targets are not possible with it`);
      if (upTo.length > done.length) out.push({ text: upTo.slice(done.length), target });
      done = upTo;
    };
    messages.forEach((m, i) => {
      if (m.role === 'assistant' && i > 0) take(this.render(messages.slice(0, i), true), false, i);
      take(this.render(messages.slice(0, i + 1), false), m.role === 'assistant', i);
    });
    return out;
  }
}
