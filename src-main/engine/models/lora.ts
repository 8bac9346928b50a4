// LoRA adapters in PEFT's layout: each targeted linear module y = x·W (+ b) gains
// (alpha/r) · dropout(x)·Aᵀ·Bᵀ with A [r, in] and B [out, r] (PEFT's lora_A.weight and
// lora_B.weight, torch Linear layout). A starts Kaiming-uniform as PEFT does (bound 1/√in), B at
// zero, so an adapted model starts equal to its base. Only A and B are trained; the base weights
// stay as they are. Adapters can be switched off, so the base model itself (a reference model for
// PPO/DPO) is the same weights with the switch off — no second copy.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../rng.js';

export const loraConfigSchema = z
  .object({
    /** Rank of A and B. */
    r: z.number().int().min(1),
    /** The update is scaled by alpha / r. */
    alpha: z.number().positive(),
    /** Dropout on the adapter's input while training (PEFT's lora_dropout). */
    dropout: z.number().min(0).max(0.9).default(0),
    /** Module names as PEFT's target_modules: a module is adapted when its path is the name or ends with `.name`. */
    targets: z.array(z.string().min(1)).min(1),
  })
  .strict();

export type LoraConfig = z.infer<typeof loraConfigSchema>;
export type LoraConfigInput = z.input<typeof loraConfigSchema>;

/** A linear module of a model: its path (the weight's name without `.weight`) and sizes. */
export interface LinearModule {
  path: string;
  in: number;
  out: number;
}

/**
 * The linear modules adapters can target, from the parameter shapes: every block matrix stored
 * [in, out] (GPT-2's Conv1D c_attn, c_proj, c_fc, mlp.c_proj; Llama's q/k/v/o_proj, gate/up/down_proj).
 * Embeddings and the output matrix are not linear modules here.
 */
export function linearModules(shapes: Array<[string, number[]]>): LinearModule[] {
  const out: LinearModule[] = [];
  for (const [name, shape] of shapes) {
    if (!name.endsWith('.weight') || shape.length !== 2) continue;
    if (/(^|\.)(wte|wpe|embed_tokens|lm_head)\.weight$/.test(name)) continue;
    out.push({ path: name.slice(0, -'.weight'.length), in: shape[0]!, out: shape[1]! });
  }
  return out;
}

/** PEFT's rule for a string entry of target_modules: the full path, or its suffix after a dot. */
export function targetMatches(path: string, target: string): boolean {
  return path === target || path.endsWith('.' + target);
}

/** The modules `targets` select; a target that selects nothing is an error naming the ones that exist. */
export function targetedModules(shapes: Array<[string, number[]]>, targets: string[]): LinearModule[] {
  const modules = linearModules(shapes);
  for (const t of targets) {
    if (!modules.some((m) => targetMatches(m.path, t))) {
      const names = [...new Set(modules.map((m) => m.path.split('.').slice(-2).join('.')))];
      throw new Error(`LoRA target "${t}" matches no linear module of this model (its modules: ${names.join(', ')})`);
    }
  }
  return modules.filter((m) => targets.some((t) => targetMatches(m.path, t)));
}

/** One adapted module's tensors. */
interface LoraPair {
  a: tf.Variable; // [r, in]
  b: tf.Variable; // [out, r]
}

/** Adapter weights are keyed `<module path>.lora_A.weight` / `.lora_B.weight` (PEFT's names without its prefix). */
export const loraKey = (path: string, which: 'A' | 'B'): string => `${path}.lora_${which}.weight`;

let adapterCounter = 0;

export class LoraAdapter {
  readonly config: LoraConfig;
  /** alpha / r. */
  readonly scale: number;
  /** When false the model computes its base alone. */
  enabled = true;
  private readonly pairs = new Map<string, LoraPair>();
  private readonly dropoutRng: Rng;

  private constructor(config: LoraConfig, modules: LinearModule[], values: (m: LinearModule) => { a: Float32Array; b: Float32Array }, rng: Rng) {
    this.config = config;
    this.scale = config.alpha / config.r;
    this.dropoutRng = rng.fork('lora-dropout');
    adapterCounter += 1;
    const prefix = `lora${adapterCounter}_${Math.random().toString(36).slice(2, 8)}/`;
    for (const m of modules) {
      const { a, b } = values(m);
      if (a.length !== config.r * m.in || b.length !== m.out * config.r) throw new Error(`LoRA weights of ${m.path} have the wrong size for r=${config.r}`);
      // tf.variable keeps its initial tensor alive until that is disposed too: free them here.
      const [ta, tb] = [tf.tensor2d(a, [config.r, m.in]), tf.tensor2d(b, [m.out, config.r])];
      this.pairs.set(m.path, {
        a: tf.variable(ta, true, prefix + loraKey(m.path, 'A')),
        b: tf.variable(tb, true, prefix + loraKey(m.path, 'B')),
      });
      tf.dispose([ta, tb]);
    }
  }

  /** Fresh adapters: A ~ U(−1/√in, 1/√in) (PEFT's kaiming_uniform_ with a=√5), B = 0. */
  static create(shapes: Array<[string, number[]]>, input: LoraConfigInput, rng: Rng): LoraAdapter {
    const config = loraConfigSchema.parse(input);
    const init = rng.fork('lora-init');
    return new LoraAdapter(config, targetedModules(shapes, config.targets), (m) => {
      const bound = 1 / Math.sqrt(m.in);
      const a = new Float32Array(config.r * m.in);
      for (let i = 0; i < a.length; i++) a[i] = (2 * init.next() - 1) * bound;
      return { a, b: new Float32Array(m.out * config.r) };
    }, rng);
  }

  /** Adapters from stored weights keyed by loraKey. */
  static fromWeights(shapes: Array<[string, number[]]>, input: LoraConfigInput, weights: Record<string, Float32Array>, rng: Rng): LoraAdapter {
    const config = loraConfigSchema.parse(input);
    return new LoraAdapter(config, targetedModules(shapes, config.targets), (m) => {
      const a = weights[loraKey(m.path, 'A')];
      const b = weights[loraKey(m.path, 'B')];
      if (!a || !b) throw new Error(`adapter weights of ${m.path} are missing`);
      return { a, b };
    }, rng);
  }

  /** The adapted modules' paths. */
  modules(): string[] {
    return [...this.pairs.keys()];
  }

  /**
   * What module `path` adds to its output for input x [n, in]: scale·dropout(x)·Aᵀ·Bᵀ [n, out],
   * or null when the module is not adapted or adapters are off.
   */
  delta(path: string, x: tf.Tensor2D, training: boolean | undefined): tf.Tensor2D | null {
    if (!this.enabled) return null;
    const pair = this.pairs.get(path);
    if (!pair) return null;
    const rate = this.config.dropout;
    const xin = training && rate > 0 ? (tf.dropout(x, rate, undefined, this.dropoutRng.seed()) as tf.Tensor2D) : x;
    const low = tf.matMul(xin, pair.a as tf.Tensor2D, false, true);
    return tf.mul(tf.matMul(low, pair.b as tf.Tensor2D, false, true), this.scale) as tf.Tensor2D;
  }

  namedVariables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [path, { a, b }] of this.pairs) {
      out[loraKey(path, 'A')] = a;
      out[loraKey(path, 'B')] = b;
    }
    return out;
  }

  getWeights(): Record<string, Float32Array> {
    return Object.fromEntries(Object.entries(this.namedVariables()).map(([k, v]) => [k, v.dataSync() as Float32Array]));
  }

  parameterCount(): number {
    return Object.values(this.namedVariables()).reduce((n, v) => n + v.size, 0);
  }

  /** The base weights with every adapted matrix W [in, out] replaced by W + scale·(B·A)ᵀ (a merged model). */
  merge(base: Record<string, Float32Array>): Record<string, Float32Array> {
    const out = { ...base };
    tf.tidy(() => {
      for (const [path, { a, b }] of this.pairs) {
        const name = path + '.weight';
        const w = base[name];
        if (!w) throw new Error(`the base has no weight ${name}`);
        const [, inDim] = a.shape as [number, number];
        const outDim = b.shape[0]!;
        const merged = tf.add(tf.tensor2d(w, [inDim, outDim]), tf.mul(tf.matMul(a, b, true, true), this.scale));
        out[name] = merged.dataSync() as Float32Array;
      }
    });
    return out;
  }

  dispose(): void {
    for (const { a, b } of this.pairs.values()) tf.dispose([a, b]);
    this.pairs.clear();
  }
}

/**
 * A stage's LoRA settings as flat config fields (the run form and `--set` take scalars):
 * `lora_r` 0 trains every weight; from 1 on, adapters of that rank on `lora_targets`
 * (comma-separated module names; empty: the family's usual attention projections).
 */
export const loraRunFields = {
  /** Rank of the LoRA adapters; 0 fine-tunes every weight. */
  lora_r: z.number().int().min(0).max(1024).default(0),
  /** The adapters' update is scaled by lora_alpha / lora_r. */
  lora_alpha: z.number().positive().default(16),
  /** Dropout on the adapters' input while training. */
  lora_dropout: z.number().min(0).max(0.9).default(0),
  /** Comma-separated module names (PEFT's target_modules); empty: q_proj,v_proj (Llama family) or c_attn (GPT-2). */
  lora_targets: z.string().default(''),
};

/** The LoRA config a run's flat fields ask for on a model of this family, or null for full fine-tuning. */
export function loraFromRunConfig(c: { lora_r: number; lora_alpha: number; lora_dropout: number; lora_targets: string }, family: 'gpt2' | 'llama'): LoraConfig | null {
  if (c.lora_r === 0) return null;
  const given = c.lora_targets.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const targets = given.length > 0 ? given : family === 'llama' ? ['q_proj', 'v_proj'] : ['c_attn'];
  return loraConfigSchema.parse({ r: c.lora_r, alpha: c.lora_alpha, dropout: c.lora_dropout, targets });
}

/** What an adapter checkpoint records in `extra.adapter` (the Models view shows it as LoRA). */
export interface AdapterMetadata {
  r: number;
  alpha: number;
  dropout: number;
  targets: string[];
  /** The checkpoint whose weights the adapter goes on. */
  base: number;
}
