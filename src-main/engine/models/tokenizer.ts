// Text ↔ token ids. Every tokenizer, trained here or imported from a Hugging Face folder, is a
// standard `tokenizer.json` loaded by @huggingface/tokenizers, so both share one code path and a
// trained tokenizer opens unchanged in Python's `tokenizers`/`transformers`.
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatTemplate, type ChatMessage } from './chat-template.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SPECIAL_TOKENS = {
  eos: '<|endoftext|>',
  pad: '<|pad|>',
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
} as const;

export type ChatRole = 'system' | 'user' | 'assistant';

/** Tokens other tokenizer families use for end-of-sequence and padding, in order of preference. */
const EOS_CANDIDATES = [SPECIAL_TOKENS.eos, '</s>', '<|im_end|>', '<eos>', '<|end_of_text|>'];
const PAD_CANDIDATES = [SPECIAL_TOKENS.pad, '<pad>', '[PAD]'];

/** GPT-2's pre-tokenizer regex, the same one the library's ByteLevel pre-tokenizer applies. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * What a model folder's tokenizer_config.json (or chat_template.jinja) adds to tokenizer.json: the
 * chat template and the special tokens by role. Kept inside the stored tokenizer JSON under
 * META_KEY, so every checkpoint derived from an Instruct model carries its template; removed from
 * the tokenizer.json an export writes (it goes back into tokenizer_config.json).
 */
export interface TokenizerMeta {
  chat_template?: string;
  bos_token?: string;
  eos_token?: string;
  pad_token?: string;
}
const META_KEY = 'rlhf_lab_tokenizer_config';

/** A special token in tokenizer_config.json: a string, or an AddedToken object with `content`. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

export const MIN_TRAINED_VOCAB = 512;
export const MAX_TRAINED_VOCAB = 8192;

interface AddedTokenJSON {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export class TextTokenizer {
  readonly eosId: number;
  readonly padId: number;
  /** Number of embedding rows a model needs: highest id + 1. */
  readonly vocabSize: number;
  /** Ids of the chat role tokens, or null when the tokenizer has none (e.g. an imported GPT-2). */
  readonly roleIds: Record<ChatRole, number> | null;
  /** The model's chat template (Instruct models), or null: chat turns then use roleHeader. */
  readonly chat: ChatTemplate | null;

  private constructor(
    private readonly json: string,
    private readonly tk: Tokenizer,
    readonly meta: TokenizerMeta = {},
  ) {
    const vocab = tk.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const find = (names: readonly string[]) => names.map((n) => tk.token_to_id(n)).find((i) => i !== undefined);
    const named = (t: string | undefined) => (t === undefined ? undefined : tk.token_to_id(t));
    const eos = named(meta.eos_token) ?? find(EOS_CANDIDATES);
    if (eos === undefined) throw new Error(`tokenizer has no end-of-sequence token (${EOS_CANDIDATES.join(', ')})`);
    this.eosId = eos;
    this.padId = named(meta.pad_token) ?? find(PAD_CANDIDATES) ?? eos;
    const specialTokens: Record<string, string> = {};
    for (const k of ['bos_token', 'eos_token', 'pad_token'] as const) if (meta[k] !== undefined) specialTokens[k] = meta[k];
    this.chat = meta.chat_template ? new ChatTemplate({ template: meta.chat_template, specialTokens }) : null;
    const sys = tk.token_to_id(SPECIAL_TOKENS.system);
    const user = tk.token_to_id(SPECIAL_TOKENS.user);
    const asst = tk.token_to_id(SPECIAL_TOKENS.assistant);
    this.roleIds =
      sys !== undefined && user !== undefined && asst !== undefined ? { system: sys, user, assistant: asst } : null;
  }

  /** Loads a Hugging Face `tokenizer.json` text. */
  static fromJSON(json: string): TextTokenizer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new Error(`tokenizer.json is not valid JSON: ${(e as Error).message}`);
    }
    const { [META_KEY]: meta, ...tokenizerJson } = parsed as Record<string, unknown>;
    // Decoding must give back exactly the text that was encoded, so no clean-up of spaces.
    return new TextTokenizer(json, new Tokenizer(tokenizerJson, { clean_up_tokenization_spaces: false }), (meta ?? {}) as TokenizerMeta);
  }

  /**
   * Adds a folder's tokenizer_config.json / chat_template.jinja (template, eos, bos and pad
   * tokens) to a tokenizer. Without a template, and with the special tokens it already picks, the
   * tokenizer is returned unchanged (so its stored JSON, and a checkpoint's hash, do not change).
   */
  private withFolderConfig(dir: string): TextTokenizer {
    const cfgPath = join(dir, 'tokenizer_config.json');
    let cfg: Record<string, unknown> = {};
    if (existsSync(cfgPath)) {
      try {
        cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${cfgPath}: not JSON (${(e as Error).message})`);
      }
    }
    let template: string | undefined;
    const jinja = join(dir, 'chat_template.jinja');
    if (existsSync(jinja)) template = readFileSync(jinja, 'utf8');
    else if (typeof cfg.chat_template === 'string') template = cfg.chat_template;
    else if (Array.isArray(cfg.chat_template)) {
      // Named templates: the default one.
      const list = cfg.chat_template as Array<{ name?: string; template?: string }>;
      template = (list.find((t) => t.name === 'default') ?? list[0])?.template;
    }
    const meta: TokenizerMeta = {};
    if (template) meta.chat_template = template;
    for (const k of ['bos_token', 'eos_token', 'pad_token'] as const) {
      const t = tokenContent(cfg[k]);
      if (t !== undefined && this.tk.token_to_id(t) !== undefined) meta[k] = t;
    }
    const changesIds = (meta.eos_token !== undefined && this.tk.token_to_id(meta.eos_token) !== this.eosId) || (meta.pad_token !== undefined && this.tk.token_to_id(meta.pad_token) !== this.padId);
    if (!template && !changesIds) return this;
    const parsed = JSON.parse(this.json) as Record<string, unknown>;
    return TextTokenizer.fromJSON(JSON.stringify({ ...parsed, [META_KEY]: meta }));
  }

  /** tokenizer.json as Hugging Face reads it (without the folder config kept alongside). */
  hfTokenizerJSON(): string {
    if (Object.keys(this.meta).length === 0) return this.json;
    const { [META_KEY]: _meta, ...rest } = JSON.parse(this.json) as Record<string, unknown>;
    return JSON.stringify(rest);
  }

  /** GPT-2's original files (`vocab.json` + `merges.txt`) turned into the equivalent tokenizer.json. */
  static fromVocabMerges(vocabJson: string, mergesTxt: string): TextTokenizer {
    const vocab = JSON.parse(vocabJson) as Record<string, number>;
    const merges = mergesTxt
      .split('\n')
      .filter((l) => l.length > 0 && !l.startsWith('#version'))
      .map((l) => {
        const sp = l.indexOf(' ');
        return [l.slice(0, sp), l.slice(sp + 1)] as [string, string];
      });
    const added: AddedTokenJSON[] = [];
    for (const t of [...EOS_CANDIDATES, ...PAD_CANDIDATES]) if (vocab[t] !== undefined) added.push(addedToken(vocab[t], t));
    return TextTokenizer.fromJSON(JSON.stringify(byteLevelBpeJSON(vocab, merges, added)));
  }

  /** A tokenizer from a Hugging Face model folder: `tokenizer.json`, else `vocab.json` + `merges.txt`. */
  static fromFolder(dir: string): TextTokenizer {
    const tj = join(dir, 'tokenizer.json');
    const vj = join(dir, 'vocab.json');
    const mt = join(dir, 'merges.txt');
    let base: TextTokenizer;
    if (existsSync(tj)) base = TextTokenizer.fromJSON(readFileSync(tj, 'utf8'));
    else if (existsSync(vj) && existsSync(mt)) base = TextTokenizer.fromVocabMerges(readFileSync(vj, 'utf8'), readFileSync(mt, 'utf8'));
    else throw new Error(`${dir} has no tokenizer.json and no vocab.json + merges.txt`);
    return base.withFolderConfig(dir);
  }

  /**
   * Trains a byte-level BPE (GPT-2 style) on `texts`. Hand-written because the JS library only
   * loads tokenizers and the native `tokenizers` npm binding cannot set the vocabulary size; the
   * result is a standard tokenizer.json loaded through the library like any imported one.
   */
  static train(texts: string[], vocabSize: number): TextTokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < MIN_TRAINED_VOCAB || vocabSize > MAX_TRAINED_VOCAB) {
      throw new Error(`vocab size must be an integer from ${MIN_TRAINED_VOCAB} to ${MAX_TRAINED_VOCAB}, got ${vocabSize}`);
    }
    const specials = Object.values(SPECIAL_TOKENS);
    const { vocab, merges } = trainByteLevelBpe(texts, vocabSize - specials.length, specials.length);
    const added = specials.map((t, i) => addedToken(i, t));
    for (const a of added) vocab[a.content] = a.id;
    return TextTokenizer.fromJSON(JSON.stringify(byteLevelBpeJSON(vocab, merges, added)));
  }

  /** The tokenizer.json text (stored with every checkpoint, written on export). */
  toJSON(): string {
    return this.json;
  }

  /** Ids of `text`; special tokens written literally in the text are recognised. No BOS/EOS added. */
  encode(text: string): number[] {
    return this.tk.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[], opts: { skipSpecial?: boolean } = {}): string {
    if (ids.length === 0) return ''; // the library refuses an empty list
    return this.tk.decode(ids, { skip_special_tokens: opts.skipSpecial ?? false, clean_up_tokenization_spaces: false });
  }

  /** Ids that open a chat turn: the role token when the tokenizer has one, otherwise a plain-text header. */
  roleHeader(role: ChatRole): number[] {
    if (this.roleIds) return [this.roleIds[role]];
    return this.encode(`${role === 'user' ? 'User' : role === 'assistant' ? 'Assistant' : 'System'}: `);
  }

  /**
   * The ids a model answers a one-turn chat prompt after: the chat template with the generation
   * prompt, or role headers (user … assistant) for models without one.
   */
  chatPromptIds(prompt: string): number[] {
    if (this.chat) return this.encode(this.chat.render([{ role: 'user', content: prompt }], true));
    return [...this.roleHeader('user'), ...this.encode(prompt), ...this.roleHeader('assistant')];
  }

  /** An assistant reply as the chat template ends it (its end-of-turn tokens); without a template, the text and EOS. */
  chatResponseIds(text: string): number[] {
    if (!this.chat) return [...this.encode(text), this.eosId];
    const turn = this.conversation([{ role: 'user', content: '?' }, { role: 'assistant', content: text }]);
    const ids = turn.ids.filter((_, i) => turn.targets[i]);
    // Up to the end-of-turn token generation stops at (templates may add a newline after it).
    const end = ids.indexOf(this.eosId);
    return end < 0 ? ids : ids.slice(0, end + 1);
  }

  /** A conversation through the chat template: ids, and targets on the assistant turns only (needs a template). */
  conversation(messages: ChatMessage[]): { ids: number[]; targets: boolean[] } {
    if (!this.chat) throw new Error('this tokenizer has no chat template');
    const ids: number[] = [];
    const targets: boolean[] = [];
    for (const seg of this.chat.segments(messages)) {
      for (const id of this.encode(seg.text)) {
        ids.push(id);
        targets.push(seg.target);
      }
    }
    return { ids, targets };
  }

  tokenString(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }
}

function addedToken(id: number, content: string): AddedTokenJSON {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The tokenizer.json of a GPT-2-style byte-level BPE (the layout Hugging Face writes for gpt2). */
function byteLevelBpeJSON(vocab: Record<string, number>, merges: [string, string][], added: AddedTokenJSON[]) {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // "a b" strings: the form every version of HF tokenizers reads (byte-level symbols never contain a space).
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** GPT-2's reversible map from the 256 byte values to printable unicode characters. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const out = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    out[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + n++);
  }
  return out;
}

/**
 * Classic BPE training (Sennrich et al.; as in GPT-2 and HF's BpeTrainer): split the corpus into
 * words with GPT-2's regex, start from the 256 byte symbols, and repeatedly merge the most frequent
 * adjacent pair (ties: lowest pair of ids, so training is deterministic). Pair counts are updated
 * incrementally for the words a merge touches, and the best pair comes from a lazy max-heap.
 */
function trainByteLevelBpe(texts: string[], maxSymbols: number, firstId: number) {
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const t of texts) for (const w of t.match(GPT2_SPLIT) ?? []) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);

  const symbols: string[] = [...b2u]; // symbol index → byte-level string; the 256 bytes first
  const words: { syms: number[]; count: number }[] = [];
  for (const [w, count] of wordCounts) words.push({ syms: Array.from(enc.encode(w)), count });

  const key = (a: number, b: number) => a * 65536 + b;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const heap = new PairHeap();
  const addPairs = (wi: number, sign: 1 | -1, touched: Set<number>) => {
    const { syms, count } = words[wi]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = key(syms[i]!, syms[i + 1]!);
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * count);
      touched.add(k);
      if (sign > 0) {
        let s = pairWords.get(k);
        if (!s) pairWords.set(k, (s = new Set()));
        s.add(wi);
      }
    }
  };
  const init = new Set<number>();
  for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1, init);
  for (const k of init) heap.push(pairCount.get(k)!, k);

  const merges: [string, string][] = [];
  while (symbols.length < maxSymbols) {
    const top = heap.popValid(pairCount);
    if (!top || top.count < 2) break; // a pair seen once is not worth a vocabulary entry
    const a = Math.floor(top.key / 65536);
    const b = top.key % 65536;
    const merged = symbols.length;
    symbols.push(symbols[a]! + symbols[b]!);
    merges.push([symbols[a]!, symbols[b]!]);
    const touched = new Set<number>();
    for (const wi of pairWords.get(top.key) ?? []) {
      const w = words[wi]!;
      if (!hasPair(w.syms, a, b)) continue;
      addPairs(wi, -1, touched);
      const next: number[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(w.syms[i]!);
      }
      w.syms = next;
      addPairs(wi, 1, touched);
    }
    pairWords.delete(top.key);
    for (const k of touched) {
      const c = pairCount.get(k)!;
      if (c <= 0) pairCount.delete(k);
      else heap.push(c, k);
    }
  }

  const vocab: Record<string, number> = {};
  symbols.forEach((s, i) => (vocab[s] = firstId + i));
  return { vocab, merges };
}

function hasPair(syms: number[], a: number, b: number): boolean {
  for (let i = 0; i + 1 < syms.length; i++) if (syms[i] === a && syms[i + 1] === b) return true;
  return false;
}

/** Max-heap of (count, pair key); stale entries are skipped on pop. Ties break on the smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  push(count: number, key: number) {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  popValid(current: Map<number, number>): { count: number; key: number } | null {
    while (this.counts.length > 0) {
      const count = this.counts[0]!;
      const key = this.keys[0]!;
      const lastC = this.counts.pop()!;
      const lastK = this.keys.pop()!;
      if (this.counts.length > 0) {
        this.counts[0] = lastC;
        this.keys[0] = lastK;
        this.siftDown();
      }
      if (current.get(key) === count) return { count, key };
    }
    return null;
  }
  private above(i: number, j: number) {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }
  private swap(i: number, j: number) {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
  private siftDown() {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.counts.length && this.above(l, m)) m = l;
      if (r < this.counts.length && this.above(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
