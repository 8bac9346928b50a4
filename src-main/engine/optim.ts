// AdamW (decoupled weight decay, as torch.optim.AdamW) with linear warmup then cosine decay and
// global gradient-norm clipping. The state (moments + step) round-trips through getState/setState
// so an interrupted run resumes with exactly the next step it would have taken.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { fusedAdamWAvailable, fusedAdamWStep, fusedSumOfSquares } from './adamw-kernel.js';

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
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
}

function decays(key: string, shape: number[], decayEmbeddings: boolean): boolean {
  if (shape.length < 2) return false; // biases, LayerNorm gains/shifts
  if (/(^|\.)(wte|wpe)\.weight$/.test(key)) return decayEmbeddings;
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
  constructor(params: Record<string, tf.Variable> | tf.Variable[], config: AdamWConfigInput = {}) {
    this.config = adamWConfigSchema.parse(config);
    const entries: Array<[string, tf.Variable]> = Array.isArray(params) ? params.map((v, i) => [String(i), v]) : Object.entries(params);
    this.slots = entries.map(([key, variable]) => {
      const slot: Slot = {
        key,
        variable,
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
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
        if (fused) {
          const [p, m, v] = fusedAdamWStep(s.variable, grads[s.variable.name]!, s.m, s.v, {
            stepSize: lr / bc1,
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            invBias2: 1 / bc2,
            eps: cfg.eps,
            decayFactor,
            gradScale: clipScale,
          });
          s.variable.assign(p);
          s.m.assign(m);
          s.v.assign(v);
          continue;
        }
        const g = clipScale === 1 ? grads[s.variable.name]! : tf.mul(grads[s.variable.name]!, clipScale);
        const m = tf.add(tf.mul(s.m, cfg.beta1), tf.mul(g, 1 - cfg.beta1));
        const v = tf.add(tf.mul(s.v, cfg.beta2), tf.mul(tf.square(g), 1 - cfg.beta2));
        s.m.assign(m);
        s.v.assign(v);
        const update = tf.div(tf.mul(m, lr / bc1), tf.add(tf.sqrt(tf.div(v, bc2)), cfg.eps));
        s.variable.assign(tf.sub(decayFactor === 1 ? s.variable : tf.mul(s.variable, decayFactor), update));
      }
    });
    return { gradNorm, lr };
  }

  /** One full step: gradients of `lossFn` w.r.t. the optimised variables, clipped and applied. */
  minimize(lossFn: () => tf.Scalar): StepResult & { loss: number } {
    const { value, grads } = tf.variableGrads(lossFn, this.variables);
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
      m[s.key] = s.m.dataSync() as Float32Array;
      v[s.key] = s.v.dataSync() as Float32Array;
    }
    return { step: this.t, m, v };
  }

  setState(state: AdamWState): void {
    for (const s of this.slots) {
      const m = state.m[s.key];
      const v = state.v[s.key];
      if (!m || !v || m.length !== s.m.size || v.length !== s.v.size) throw new Error(`optimizer state for "${s.key}" missing or of wrong size`);
      tf.tidy(() => {
        s.m.assign(tf.tensor(m, s.m.shape, 'float32'));
        s.v.assign(tf.tensor(v, s.v.shape, 'float32'));
      });
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }
}
