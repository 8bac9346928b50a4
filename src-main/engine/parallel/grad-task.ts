// A gradient task: the loss of one training step, written once and run on any replica of the
// models — on the main thread for its shard of the batch and in each replica worker for theirs.
// Tasks are registered by the module that defines them; a worker imports that module by URL.
import * as tf from '@tensorflow/tfjs';
import type { GPT } from '../models/model.js';
import { trainedGrads } from '../kernels/fast-ops.js';
import type { CustomReplicable } from './replicable.js';

export type ReplicaModel = GPT | CustomReplicable;
/** The models a task sees, by role (e.g. `policy`, `value`). */
export type ModelSet = Record<string, ReplicaModel>;

export interface GradTask<I> {
  /** Registry key. */
  name: string;
  /** `import.meta.url` of the module that defines (and registers) the task. */
  module: string;
  /**
   * Splits one step's input into at most `parts` shards whose losses add up to the loss of the
   * whole input (each shard's loss is pre-scaled by its share), so summed gradients are the
   * gradients of the full batch.
   */
  split(input: I, parts: number): I[];
  /** Tokens the input trains on: decides how many shards pay off (Replicas.partsFor). */
  tokens(input: I): number;
  /**
   * Forward-only work outside the gradient tape (e.g. a frozen reference model's log-probs), so
   * the tape does not keep its activations; the result is passed to `loss` and then disposed.
   */
  prepare?(models: ModelSet, input: I): Record<string, tf.Tensor>;
  /** The shard's loss, plus tensors the trainer wants back (e.g. per-example rewards), concatenated over shards in order. */
  loss(models: ModelSet, input: I, prepared: Record<string, tf.Tensor>): { loss: tf.Scalar; extras?: Record<string, tf.Tensor> };
}

const registry = new Map<string, GradTask<unknown>>();

export function defineGradTask<I>(task: GradTask<I>): GradTask<I> {
  registry.set(task.name, task as GradTask<unknown>);
  return task;
}

export function registeredGradTask(name: string): GradTask<unknown> {
  const t = registry.get(name);
  if (!t) throw new Error(`no gradient task "${name}" is registered`);
  return t;
}

/** Trainable variables of `roles`, keyed `role/name` (the same keys on every replica). */
export function trainableVariables(models: ModelSet, roles: readonly string[]): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const role of roles) {
    const m = models[role];
    if (!m) throw new Error(`no model for role "${role}"`);
    for (const [name, v] of Object.entries(m.namedVariables())) out[`${role}/${name}`] = v;
  }
  return out;
}

export interface ShardGrads {
  loss: number;
  /** By `role/name`; the caller disposes them. */
  grads: Record<string, tf.Tensor>;
  extras: Record<string, Float32Array>;
}

/**
 * Tokens × trained parameters one backward pass may take on the wasm backend before a shard is
 * run as several passes whose gradients are summed (gradient accumulation; the task's split keeps
 * the loss scale, so the sum is the shard's gradient). tfjs-wasm holds weights, gradients and
 * every activation in one heap that wasm32 caps at 4 GB: one pass of 256 tokens through a
 * GPT-2-124M grew it to 3.1 GB (optimizer moments outside it, optim.ts); at this budget a
 * 124M model takes at most 138 tokens per pass (batch 8 × 256 runs as 8 passes of one row, a
 * row being the smallest split). Every bench, demo and test size takes one pass, as before.
 */
export const MAX_PASS_TOKEN_PARAMETERS = 2 ** 34;

/** Loss and gradients of one shard on one replica: one pass, or (very large work on wasm) several accumulated. */
export function computeGrads<I>(models: ModelSet, roles: readonly string[], task: GradTask<I>, input: I, maxPassTokenParameters = MAX_PASS_TOKEN_PARAMETERS): ShardGrads {
  // The activations a pass holds grow with the whole model, not with what trains (a LoRA model
  // trains a fraction of its weights and still runs all of them).
  const parameters = roles.reduce((n, role) => {
    const m = models[role];
    if (!m) throw new Error(`no model for role "${role}"`);
    return n + forwardParameters(m);
  }, 0);
  const passes = tf.getBackend() === 'wasm' ? Math.ceil((task.tokens(input) * parameters) / maxPassTokenParameters) : 1;
  if (passes <= 1) return computeGradsOnce(models, roles, task, input);
  // The running sum lives in JS memory, not on the heap the next pass's activations need.
  const sums: Record<string, { shape: number[]; data: Float32Array }> = {};
  const total: ShardGrads = { loss: 0, grads: {}, extras: {} };
  for (const part of task.split(input, passes)) {
    const r = computeGradsOnce(models, roles, task, part);
    for (const [key, g] of Object.entries(r.grads)) {
      const data = g.dataSync() as Float32Array;
      const sum = sums[key];
      if (!sum) sums[key] = { shape: g.shape, data: Float32Array.from(data) };
      else for (let i = 0; i < data.length; i++) sum.data[i]! += data[i]!;
      g.dispose();
    }
    total.loss += r.loss;
    for (const [key, x] of Object.entries(r.extras)) {
      const prev = total.extras[key] ?? new Float32Array(0);
      const joined = new Float32Array(prev.length + x.length);
      joined.set(prev);
      joined.set(x, prev.length);
      total.extras[key] = joined;
    }
  }
  for (const [key, { shape, data }] of Object.entries(sums)) total.grads[key] = tf.tensor(data, shape, 'float32');
  return total;
}

/** Parameters a forward pass of the model runs through: its weights (frozen ones included) and any adapters. */
function forwardParameters(m: ReplicaModel): number {
  const trained = Object.values(m.namedVariables()).reduce((n, v) => n + v.size, 0);
  const gpt = 'replicaSpec' in m ? m.backbone : m;
  return gpt.lora ? gpt.parameterCount() + trained : trained;
}

function computeGradsOnce<I>(models: ModelSet, roles: readonly string[], task: GradTask<I>, input: I): ShardGrads {
  const vars = trainableVariables(models, roles);
  const keyOf = new Map(Object.entries(vars).map(([k, v]) => [v.name, k]));
  let kept: Record<string, tf.Tensor> = {};
  const prepared = task.prepare ? tf.tidy(() => task.prepare!(models, input)) : {};
  let value: tf.Scalar;
  let grads: tf.NamedTensorMap;
  try {
    ({ value, grads } = trainedGrads(() => {
      const r = task.loss(models, input, prepared);
      kept = Object.fromEntries(Object.entries(r.extras ?? {}).map(([k, t]) => [k, tf.keep(t)]));
      return r.loss;
    }, Object.values(vars)));
  } finally {
    tf.dispose(Object.values(prepared));
  }
  const loss = value.dataSync()[0]!;
  value.dispose();
  const extras: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(kept)) {
    extras[k] = Float32Array.from(t.dataSync());
    t.dispose();
  }
  const byKey: Record<string, tf.Tensor> = {};
  for (const [name, g] of Object.entries(grads)) byKey[keyOf.get(name)!] = g;
  return { loss, grads: byKey, extras };
}

/** Up to `parts` contiguous, non-empty [start, end) ranges covering 0..n, as even as possible. */
export function shardRanges(n: number, parts: number): Array<[number, number]> {
  const k = Math.max(1, Math.min(parts, n));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < k; i++) out.push([Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
  return out;
}
