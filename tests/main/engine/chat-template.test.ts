// Instruct models' chat templates (tokenizer_config.json `chat_template`, rendered by
// @huggingface/jinja): the eos/pad tokens the folder names, prompts with the generation prompt,
// SFT targets on the assistant turns only, the template kept through checkpoints and exports.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSftExample } from '../../../src-main/engine/train/sft.js';
import { textEncoder } from '../../../src-main/engine/train/sequences.js';
import { TextTokenizer } from '../../../src-main/engine/models/tokenizer.js';

// ChatML with a default system turn, in the style of SmolLM2-Instruct's and Qwen2.5-Instruct's templates.
const CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

let dir: string;
let folder: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'chat-template-'));
  folder = join(dir, 'instruct');
  mkdirSync(folder);
  const texts = Array.from({ length: 40 }, (_, i) => `the cat ${i} sat on the mat and said hello to the dog number ${i * 7}`);
  const json = JSON.parse(TextTokenizer.train(texts, 512).toJSON()) as { added_tokens: Array<Record<string, unknown>>; model: { vocab: Record<string, number> } };
  let next = Math.max(...Object.values(json.model.vocab), ...json.added_tokens.map((t) => t.id as number)) + 1;
  for (const content of ['<|im_start|>', '<|im_end|>']) json.added_tokens.push({ id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ chat_template: CHATML, eos_token: '<|im_end|>', pad_token: { content: '<|im_end|>' }, bos_token: null }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chat templates', () => {
  it('takes eos and pad from tokenizer_config.json and renders prompts with the generation prompt', () => {
    const tok = TextTokenizer.fromFolder(folder);
    expect(tok.tokenString(tok.eosId)).toBe('<|im_end|>');
    expect(tok.padId).toBe(tok.eosId);
    expect(tok.decode(tok.chatPromptIds('hello cat'))).toBe('<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhello cat<|im_end|>\n<|im_start|>assistant\n');
    // The special tokens are single ids, not spelt out byte by byte.
    expect(tok.chatPromptIds('hi').filter((id) => id === tok.eosId)).toHaveLength(2);
  });

  it('SFT on messages trains on the assistant turns only (their text and end-of-turn)', () => {
    const tok = TextTokenizer.fromFolder(folder);
    const messages = [
      { role: 'user', content: 'hello cat' },
      { role: 'assistant', content: 'hello dog' },
      { role: 'user', content: 'the mat' },
      { role: 'assistant', content: 'sat on the mat' },
    ];
    const seq = encodeSftExample({ kind: 'messages', messages } as never, tok, 1000)!;
    const targets = tok.decode(seq.ids.filter((_, i) => seq.targets[i]));
    expect(targets).toBe('hello dog<|im_end|>\nsat on the mat<|im_end|>\n');
    expect(tok.decode(seq.ids)).toBe(tok.chat!.render(messages, false));
    // A prompt/completion example is the same conversation of one turn each.
    const c = encodeSftExample({ kind: 'completion', prompt: 'hello cat', completion: 'hello dog' } as never, tok, 1000)!;
    expect(tok.decode(c.ids.filter((_, i) => c.targets[i]))).toBe('hello dog<|im_end|>\n');
  });

  it('RM, PPO and DPO encode prompts as a user turn and responses up to the end-of-turn token', () => {
    const tok = TextTokenizer.fromFolder(folder);
    const enc = textEncoder(tok);
    expect(enc.prompt('hello cat')).toEqual(tok.chatPromptIds('hello cat'));
    expect(tok.decode(enc.response('hello dog'))).toBe('hello dog<|im_end|>');
    expect(enc.response('hello dog').at(-1)).toBe(tok.eosId);
  });

  it('keeps the template through the stored tokenizer JSON; the exported tokenizer.json is plain', () => {
    const tok = TextTokenizer.fromFolder(folder);
    const again = TextTokenizer.fromJSON(tok.toJSON());
    expect(again.chat!.spec.template).toBe(CHATML);
    expect(again.eosId).toBe(tok.eosId);
    expect(JSON.parse(tok.hfTokenizerJSON())).not.toHaveProperty('rlhf_lab_tokenizer_config');
    expect(JSON.parse(tok.hfTokenizerJSON())).toEqual(JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')));
    // Without a template or other special tokens the stored JSON is the file itself, byte for byte.
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'tokenizer.json'), readFileSync(join(folder, 'tokenizer.json')));
    expect(TextTokenizer.fromFolder(plain).toJSON()).toBe(readFileSync(join(folder, 'tokenizer.json'), 'utf8'));
  });

  it('refuses a template that rewrites earlier turns, and one that does not parse', () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'tokenizer.json'), readFileSync(join(folder, 'tokenizer.json')));
    // Numbers every turn from the end: adding a turn changes all earlier ones.
    writeFileSync(join(bad, 'tokenizer_config.json'), JSON.stringify({ chat_template: "{% for m in messages %}{{ (messages|length - loop.index0)|string + ':' + m['content'] + '\\n' }}{% endfor %}" }));
    const tok = TextTokenizer.fromFolder(bad);
    expect(() => tok.conversation([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }])).toThrow(/does not render turn 2 as a continuation/);
    writeFileSync(join(bad, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{% for m in messages %}' }));
    expect(() => TextTokenizer.fromFolder(bad)).toThrow(/chat_template does not parse/);
  });
});
