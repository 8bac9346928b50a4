// Health checks of a PPO run (ALGORITHMS.md §3): the failure modes users hit most, raised as
// warning events with the step and example samples so the sample table is at hand:
// KL below zero (sampling mismatch), KL already large at the first step, val/ratio far from 1,
// and reward rising while responses collapse (length → 0, all identical, one repeated token).
import { z } from 'zod';

export const healthConfigSchema = z
  .object({
    /** objective/kl (nats per response) below −this: the policy's and reference's log-probs disagree. */
    negative_kl: z.number().min(0).default(0.1),
    /** objective/kl at the first step above this: before any update the policy equals the reference. */
    first_step_kl: z.number().min(0).default(1.0),
    /** |val/ratio − 1| above this: updates are too large or the rollout log-probs are stale. */
    ratio_tolerance: z.number().positive().default(0.5),
    /** Mean response length (tokens) at or below this counts as collapsed. */
    min_response_len: z.number().min(0).default(1.5),
    /** Share of the batch taken by its most common response at or above this counts as collapsed. */
    identical_share: z.number().min(0).max(1).default(0.9),
    /** Share of all response tokens taken by one token at or above this counts as collapsed. */
    repeated_token_share: z.number().min(0).max(1).default(0.5),
    /** A warning of one kind is raised again only after this many steps. */
    repeat_every: z.number().int().min(1).default(25),
    /** Example samples attached to each warning. */
    examples: z.number().int().min(0).max(32).default(4),
  })
  .strict();
export type HealthConfig = z.infer<typeof healthConfigSchema>;

export type HealthKind = 'negative_kl' | 'kl_blowup' | 'ratio' | 'collapse_length' | 'collapse_identical' | 'collapse_repeat';

export interface HealthSample {
  prompt: string;
  response: string;
  tokens: number[];
  score: number;
}

export interface HealthWarning {
  kind: HealthKind;
  step: number;
  message: string;
  /** The metric value that tripped the check. */
  value: number;
  samples: { prompt: string; response: string; score: number }[];
}

export class HealthMonitor {
  private readonly lastRaised = new Map<HealthKind, number>();

  constructor(readonly config: HealthConfig = healthConfigSchema.parse({})) {}

  /** Checks one step's (1-based) metrics and rollouts; returns the warnings to raise now. */
  check(step: number, metrics: Record<string, number>, batch: HealthSample[]): HealthWarning[] {
    const c = this.config;
    const found: Omit<HealthWarning, 'step' | 'samples'>[] = [];
    const kl = metrics['objective/kl'];
    if (kl !== undefined && kl < -c.negative_kl) {
      found.push({
        kind: 'negative_kl',
        value: kl,
        message: `KL is negative (${kl.toFixed(3)}): the policy's and the reference's log-probs are computed differently (temperature, dropout or sampling settings).`,
      });
    }
    if (kl !== undefined && step === 1 && kl > c.first_step_kl) {
      found.push({
        kind: 'kl_blowup',
        value: kl,
        message: `KL is already ${kl.toFixed(3)} at the first step, before any update: the rollout and the reference disagree (check temperature and that both start from the same checkpoint).`,
      });
    }
    const ratio = metrics['val/ratio'];
    if (ratio !== undefined && Math.abs(ratio - 1) > c.ratio_tolerance) {
      found.push({
        kind: 'ratio',
        value: ratio,
        message: `val/ratio is ${ratio.toFixed(3)}, far from 1: the policy changes too much per update (lower the learning rate or the number of PPO epochs).`,
      });
    }
    if (batch.length > 0) {
      const meanLen = batch.reduce((s, b) => s + b.tokens.length, 0) / batch.length;
      if (meanLen <= c.min_response_len) {
        found.push({
          kind: 'collapse_length',
          value: meanLen,
          message: `Responses have collapsed to ${meanLen.toFixed(2)} tokens on average: the policy found that short answers score well.`,
        });
      }
      const counts = new Map<string, number>();
      for (const b of batch) counts.set(b.response, (counts.get(b.response) ?? 0) + 1);
      const top = Math.max(...counts.values()) / batch.length;
      if (batch.length > 1 && top >= c.identical_share) {
        found.push({
          kind: 'collapse_identical',
          value: top,
          message: `${Math.round(top * 100)}% of the responses are identical: the policy has collapsed onto one answer (raise β).`,
        });
      }
      const tokenCounts = new Map<number, number>();
      let total = 0;
      for (const b of batch) for (const t of b.tokens) {
        tokenCounts.set(t, (tokenCounts.get(t) ?? 0) + 1);
        total++;
      }
      const topToken = total > 0 ? Math.max(...tokenCounts.values()) / total : 0;
      if (total >= 16 && topToken >= c.repeated_token_share) {
        found.push({
          kind: 'collapse_repeat',
          value: topToken,
          message: `One token makes up ${Math.round(topToken * 100)}% of all response tokens: the policy repeats itself to exploit the reward model.`,
        });
      }
    }
    const examples = batch.slice(0, c.examples).map(({ prompt, response, score }) => ({ prompt, response, score }));
    const out: HealthWarning[] = [];
    for (const f of found) {
      const last = this.lastRaised.get(f.kind);
      if (last !== undefined && step - last < c.repeat_every) continue;
      this.lastRaised.set(f.kind, step);
      out.push({ ...f, step, samples: examples });
    }
    return out;
  }
}
