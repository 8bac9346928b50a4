// AdamW (decoupled weight decay, as torch.optim.AdamW) with linear warmup then cosine decay and
// global gradient-norm clipping. The state (moments + step) round-trips through getState/setState
// so an interrupted run resumes with exactly the next step it would have taken.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { fusedAdamWAvailable, fusedAdamWStep, fusedSumOfSquares } from '../kernels/adamw-kernel.js';
import { trainedGrads } from '../kernels/fast-ops.js';

export const adamWConfigSchema = z
  .object({
    lr: z.number().positive().default(3e-4),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().min(0).default(0.01),
    /** Steps of linear warmup from lr/warmupSteps to lr. */
    warmupSteps: z.number().int().min(0).default(0),
    /** Total steps of the schedule; cosine decay runs from warmupSteps to here. 0 = constant lr after warmup. */
    totalSteps: z.number().int().min(0).default(0),
    /** Floor of the cosine decay as a fraction of lr. */
    minLrRatio: z.number().min(0).max(1).default(0.1),
    /** Global L2 gradient-norm clip; 0 = no clipping. */
    clipNorm: z.number().min(0).default(1.0),
    /** Apply weight decay to embeddings (wte, wpe) too, as nanoGPT does; biases and LayerNorm never decay. */
    decayEmbeddings: z.boolean().default(true),
  })
  .strict();

export type AdamWConfig = z.infer<typeof adamWConfigSchema>;
export type AdamWConfigInput = z.input<typeof adamWConfigSchema>;

export interface AdamWState {
  step: number;
  /** First and second moments by parameter key. */
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface StepResult {
  /** Global gradient L2 norm before clipping (the `grad_norm` metric). */
  gradNorm: number;
  /** Learning rate used for this step. */
  lr: number;
}

/** Learning rate after `step` completed steps: linear warmup, then cosine decay to minLrRatio·lr. */
export function learningRateAt(cfg: AdamWConfig, step: number): number {
  if (cfg.warmupSteps > 0 && step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  if (cfg.totalSteps <= cfg.warmupSteps) return cfg.lr;
  const progress = Math.min(1, (step - cfg.warmupSteps) / (cfg.totalSteps - cfg.warmupSteps));
  const minLr = cfg.lr * cfg.minLrRatio;
  return minLr + 0.5 * (cfg.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}

interface Slot {
  key: string;
  variable: tf.Variable;
  /** The moments as tensors, or (large models on wasm) as plain arrays outside the wasm heap. */
  m: tf.Variable | Float32Array;
  v: tf.Variable | Float32Array;
  decay: boolean;
}

/**
 * From this many parameters on, on the wasm backend, the moments live in JS memory rather than
 * tfjs-wasm's heap, which wasm32 caps at 4 GB for weights, moments, gradients and activations
 * together: a GPT-2-124M SFT step at batch 2 × 128 grew the heap to 4.27 GB with the moments
 * (1 GB) in it, and the next step aborted in a matMul's allocation. The update then runs as a JS
 * loop (about a second per step at 124M parameters, against tens of seconds for the step itself).
 */
export const HOST_MOMENTS_MIN_PARAMETERS = 50_000_000;

function decays(key: string, shape: number[], decayEmbeddings: boolean): boolean {
  if (shape.length < 2) return false; // biases, LayerNorm gains/shifts
  if (/(^|\.)(wte|wpe|embed_tokens)\.weight$/.test(key)) return decayEmbeddings;
  return true;
}

export class AdamW {
  readonly config: AdamWConfig;
  private readonly slots: Slot[];
  private readonly byVarName = new Map<string, Slot>();
  private t = 0;

  /**
   * `params`: variables by a stable key (e.g. GPT.namedVariables(), or `{...policy, ...value}` with
   * prefixed keys); a plain array is keyed by index. Keys name the state in getState().
   */
  constructor(params: Record<string, tf.Variable> | tf.Variable[], config: AdamWConfigInput = {}, placement: { hostMoments?: boolean } = {}) {
    this.config = adamWConfigSchema.parse(config);
    const entries: Array<[string, tf.Variable]> = Array.isArray(params) ? params.map((v, i) => [String(i), v]) : Object.entries(params);
    const total = entries.reduce((n, [, v]) => n + v.size, 0);
    const onHost = placement.hostMoments ?? (tf.getBackend() === 'wasm' && total >= HOST_MOMENTS_MIN_PARAMETERS);
    const zeros = (variable: tf.Variable) => (onHost ? new Float32Array(variable.size) : tf.variable(tf.zerosLike(variable), false));
    this.slots = entries.map(([key, variable]) => {
      const slot: Slot = {
        key,
        variable,
        m: zeros(variable),
        v: zeros(variable),
        decay: decays(key, variable.shape, this.config.decayEmbeddings),
      };
      this.byVarName.set(variable.name, slot);
      return slot;
    });
  }

  /** The optimised variables, e.g. for tf.variableGrads(f, opt.variables). */
  get variables(): tf.Variable[] {
    return this.slots.map((s) => s.variable);
  }

  /** Steps taken so far. */
  get step(): number {
    return this.t;
  }

  lrAt(step: number): number {
    return learningRateAt(this.config, step);
  }

  /**
   * Clip and apply gradients keyed by variable name (as tf.variableGrads returns them). Variables
   * without a gradient are left untouched. Does not dispose `grads`. `scheduleStep` reads the lr
   * schedule at that step instead of at the optimizer's own step count: PPO takes many optimizer
   * steps per iteration and steps its schedule once per iteration (as TRL does), so early stopping
   * and skipped minibatches do not move the schedule.
   */
  applyGradients(grads: tf.NamedTensorMap, scheduleStep?: number): StepResult {
    const cfg = this.config;
    const present = this.slots.filter((s) => grads[s.variable.name] !== undefined);
    const fused = fusedAdamWAvailable();
    const normT = tf.tidy(() => {
      const gs = present.map((s) => grads[s.variable.name]!);
      return tf.sqrt(fused ? fusedSumOfSquares(gs) : tf.addN(gs.map((g) => tf.sum(tf.square(g)))));
    });
    const gradNorm = normT.dataSync()[0]!;
    normT.dispose();
    const clipScale = cfg.clipNorm > 0 && gradNorm > cfg.clipNorm ? cfg.clipNorm / (gradNorm + 1e-6) : 1;
    const lr = this.lrAt(scheduleStep ?? this.t);
    this.t += 1;
    const bc1 = 1 - Math.pow(cfg.beta1, this.t);
    const bc2 = 1 - Math.pow(cfg.beta2, this.t);
    tf.tidy(() => {
      for (const s of present) {
        const decayFactor = s.decay && cfg.weightDecay > 0 ? 1 - lr * cfg.weightDecay : 1;
        if (s.m instanceof Float32Array) {
          hostAdamWStep(s.variable, grads[s.variable.name]!, s.m, s.v as Float32Array, { lr, bc1, bc2, decayFactor, clipScale, cfg });
          continue;
        }
        const sm = s.m;
        const sv = s.v as tf.Variable;
        if (fused) {
          const [p, m, v] = fusedAdamWStep(s.variable, grads[s.variable.name]!, sm, sv, {
            stepSize: lr / bc1,
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            invBias2: 1 / bc2,
            eps: cfg.eps,
            decayFactor,
            gradScale: clipScale,
          });
          s.variable.assign(p);
          sm.assign(m);
          sv.assign(v);
          continue;
        }
        const g = clipScale === 1 ? grads[s.variable.name]! : tf.mul(grads[s.variable.name]!, clipScale);
        const m = tf.add(tf.mul(sm, cfg.beta1), tf.mul(g, 1 - cfg.beta1));
        const v = tf.add(tf.mul(sv, cfg.beta2), tf.mul(tf.square(g), 1 - cfg.beta2));
        sm.assign(m);
        sv.assign(v);
        const update = tf.div(tf.mul(m, lr / bc1), tf.add(tf.sqrt(tf.div(v, bc2)), cfg.eps));
        s.variable.assign(tf.sub(decayFactor === 1 ? s.variable : tf.mul(s.variable, decayFactor), update));
      }
    });
    return { gradNorm, lr };
  }

  /** One full step: gradients of `lossFn` w.r.t. the optimised variables, clipped and applied. */
  minimize(lossFn: () => tf.Scalar): StepResult & { loss: number } {
    const { value, grads } = trainedGrads(lossFn, this.variables);
    try {
      const loss = value.dataSync()[0]!;
      return { ...this.applyGradients(grads), loss };
    } finally {
      value.dispose();
      tf.dispose(grads);
    }
  }

  getState(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const s of this.slots) {
      m[s.key] = s.m instanceof Float32Array ? s.m.slice() : (s.m.dataSync() as Float32Array);
      v[s.key] = s.v instanceof Float32Array ? s.v.slice() : (s.v.dataSync() as Float32Array);
    }
    return { step: this.t, m, v };
  }

  setState(state: AdamWState): void {
    for (const s of this.slots) {
      const m = state.m[s.key];
      const v = state.v[s.key];
      if (!m || !v || m.length !== s.variable.size || v.length !== s.variable.size) throw new Error(`optimizer state for "${s.key}" missing or of wrong size`);
      const [sm, sv] = [s.m, s.v];
      if (sm instanceof Float32Array && sv instanceof Float32Array) {
        sm.set(m);
        sv.set(v);
        continue;
      }
      tf.tidy(() => {
        (sm as tf.Variable).assign(tf.tensor(m, s.variable.shape, 'float32'));
        (sv as tf.Variable).assign(tf.tensor(v, s.variable.shape, 'float32'));
      });
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const s of this.slots) {
      if (!(s.m instanceof Float32Array)) s.m.dispose();
      if (!(s.v instanceof Float32Array)) s.v.dispose();
    }
  }
}

/**
 * One AdamW step with the moments in JS memory (large models on wasm): the same update as the
 * fused kernel (adamw-kernel.ts) in float64, the new weights written back as one tensor.
 */
function hostAdamWStep(
  variable: tf.Variable,
  grad: tf.Tensor,
  m: Float32Array,
  v: Float32Array,
  o: { lr: number; bc1: number; bc2: number; decayFactor: number; clipScale: number; cfg: AdamWConfig },
): void {
  const p = variable.dataSync() as Float32Array;
  const g = grad.dataSync() as Float32Array;
  const { beta1, beta2, eps } = o.cfg;
  const stepSize = o.lr / o.bc1;
  const invBias2 = 1 / o.bc2;
  const next = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]! * o.clipScale;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    next[i] = p[i]! * o.decayFactor - (stepSize * mi) / (Math.sqrt(vi * invBias2) + eps);
  }
  variable.assign(tf.tensor(next, variable.shape, 'float32'));
}
