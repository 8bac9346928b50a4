// Data parallelism over the cores: the trainer's models are replicated into worker threads (each
// with its own tfjs wasm instance), every step's batch is split into shards, the main thread and
// the workers compute their shards' gradients at the same time, and the main thread sums them
// and takes the optimizer step, then sends the new weights to the workers. The result is the
// full batch's gradient (up to float summation order), so training curves do not depend on the
// number of threads. Hand-written: tfjs has no data parallelism, and its threaded wasm build
// did not parallelise its matMuls in Node (measured, README "Using both cores").
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { computeGrads, trainableVariables, type GradTask, type ModelSet, type ReplicaModel, type ShardGrads } from './grad-task.js';
import type { FromReplica, ReplicaSpec, ToReplica } from './protocol.js';
import type { ReplicaTask } from './replica-task.js';
import { siblingModule, spawnModuleWorker } from './spawn-worker.js';

/**
 * Threads to train on: `RLHF_THREADS` if set, else one per core (at most 4), on the wasm backend
 * only (native TensorFlow threads its own kernels; the cpu fallback is for correctness, not speed).
 */
export function trainingThreads(): number {
  const env = process.env.RLHF_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`RLHF_THREADS must be a positive integer, got "${env}"`);
    return n;
  }
  if (tf.getBackend() !== 'wasm') return 1;
  return Math.min(4, os.availableParallelism());
}

/**
 * A shard pays off from this many tokens up: below it, each thread's fixed costs (kernel
 * launches, gradient exchange, weight sync) and the slowdown of two busy cores eat the gain.
 * Measured on the 2-core machine, tiny SFT step on two threads: 1.0× at 64 tokens per shard,
 * 1.06× at 128, 1.39× at 256, 1.54× at 512 (small size: 1.7× at 512); PPO minibatches of 96
 * (tiny) and 64 tokens (small) per shard were slower than one thread.
 */
export const MIN_SHARD_TOKENS = 192;

/**
 * Rows × parameters a thread's part of a generation batch needs before splitting pays off.
 * Measured on two threads with the compiled decoder (engine/kernels/decode.c): tiny model (0.4 M
 * parameters) 1.41× at 4 rows, 1.80× at 8, 1.81× at 16; small (14 M) 1.19× at 4, 1.91× at 8,
 * 1.63× at 16. (Through tf ops, before the decoder, tiny at 16 rows was 0.86×.)
 */
export const MIN_PART_ROW_PARAMETERS = 0.5e6;

/**
 * Tokens × parameters a thread's part of a forward pass (scoring a batch) needs before splitting
 * pays off. Measured: PPO scoring at the tiny size, 0.66·10⁹ per part, 0.96× on two threads.
 */
export const MIN_PART_TOKEN_PARAMETERS = 2e9;

/** When splitting work pays off; tests lower them to 1 to split everything. */
export interface SplitThresholds {
  minShardTokens: number;
  minPartRowParameters: number;
  minPartTokenParameters: number;
}

/**
 * What a worker needs to build each role's replica, in order. A GPT (or a model's backbone) whose
 * base weights an earlier role's model already holds names that role instead of carrying them,
 * so a worker holds one copy of them, as the main thread does (a LoRA policy, its reference and
 * value model on one base: models/model.ts GPT.shareBase).
 */
function specsOf(models: ModelSet): Record<string, ReplicaSpec> {
  const specs: Record<string, ReplicaSpec> = {};
  const owners: Array<[object, string]> = [];
  for (const [role, model] of Object.entries(models)) {
    const own = 'replicaSpec' in model ? model.replicaSpec() : { kind: 'gpt', weights: {} };
    const backbone = 'replicaSpec' in model ? model.backbone : model;
    const identity = backbone.baseIdentity();
    const owner = owners.find(([id]) => id === identity)?.[1];
    if (owner === undefined) owners.push([identity, role]);
    const lora = backbone.lora;
    specs[role] = {
      ...own,
      config: backbone.config,
      weights: owner === undefined ? { ...backbone.getWeights(), ...own.weights } : own.weights,
      ...(owner !== undefined ? { base: owner } : {}),
      ...(lora ? { lora: { config: lora.config, weights: lora.getWeights() } } : {}),
    };
  }
  return specs;
}

function weightsOf(model: ReplicaModel): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(model.namedVariables()).map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

type Reply = Extract<FromReplica, { type: 'grads' | 'result' }>;

interface Pending {
  resolve(m: Reply): void;
  reject(e: Error): void;
}

class ReplicaWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(readonly worker: Worker) {
    worker.on('message', (m: FromReplica) => {
      if (m.type === 'grads' || m.type === 'result') this.settle(m.id, (p) => p.resolve(m));
      else if (m.type === 'error') this.fail(new Error(`replica worker: ${m.message}`), m.id);
    });
    worker.on('error', (e) => this.fail(e, null));
    worker.on('exit', (code) => this.fail(new Error(`replica worker exited with code ${code}`), null));
  }

  static start(specs: Record<string, ReplicaSpec>): Promise<ReplicaWorker> {
    const worker = spawnModuleWorker(siblingModule(import.meta.url, 'replica-worker'), { specs, backend: tf.getBackend() });
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromReplica) => {
        if (m.type === 'ready') {
          worker.off('message', onMessage);
          worker.unref();
          resolve(new ReplicaWorker(worker));
        } else if (m.type === 'error') {
          void worker.terminate();
          reject(new Error(`replica worker failed to start: ${m.message}`));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  private settle(id: number, f: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    // Referenced only while a step waits on it: an idle replica never keeps a process alive.
    if (this.pending.size === 0) this.worker.unref();
    f(p);
  }

  private fail(e: Error, id: number | null): void {
    if (id !== null) return this.settle(id, (p) => p.reject(e));
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  send(m: ToReplica, transfer: ArrayBuffer[] = []): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(m, transfer);
  }

  private request(m: Extract<ToReplica, { type: 'grads' | 'run' }>): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.pending.set(m.id, { resolve, reject });
      this.worker.ref();
      try {
        this.send(m);
      } catch (e) {
        this.pending.delete(m.id);
        reject(e as Error);
      }
    });
  }

  async grads(task: GradTask<unknown>, roles: string[], input: unknown): Promise<Extract<FromReplica, { type: 'grads' }>> {
    return (await this.request({ type: 'grads', id: this.nextId++, module: task.module, task: task.name, roles, input })) as Extract<FromReplica, { type: 'grads' }>;
  }

  async run(task: ReplicaTask<unknown, unknown>, input: unknown): Promise<unknown> {
    return ((await this.request({ type: 'run', id: this.nextId++, module: task.module, task: task.name, input })) as Extract<FromReplica, { type: 'result' }>).output;
  }
}

/** The workers' results; if one fails, the main thread's gradients are freed before the error goes on. */
async function settleRemote<T>(remote: Array<Promise<T>>, local: ShardGrads): Promise<T[]> {
  try {
    return await Promise.all(remote);
  } catch (e) {
    tf.dispose(Object.values(local.grads));
    throw e;
  }
}

export interface StepGrads {
  /** Sum of the shards' losses = the full batch's loss. */
  loss: number;
  /** Full-batch gradients keyed by variable name (as tf.variableGrads returns them); the caller disposes them. */
  grads: tf.NamedTensorMap;
  /** Each extra, concatenated over the shards in batch order. */
  extras: Record<string, Float32Array>;
}

/** Computes full-batch gradients of registered tasks, on every core when there is more than one. */
export class Replicas {
  private constructor(
    private readonly models: ModelSet,
    private readonly roles: string[],
    private readonly workers: ReplicaWorker[],
    private readonly thresholds: SplitThresholds,
  ) {}

  /** Replicates `models` into `threads − 1` workers; `roles` are the trained ones. */
  static async start(models: ModelSet, roles: string[], threads = trainingThreads(), thresholds: Partial<SplitThresholds> = {}): Promise<Replicas> {
    // The weights are read out once; each worker gets its own structured-clone copy.
    const specs = threads > 1 ? specsOf(models) : {};
    const workers = threads > 1 ? await Promise.all(Array.from({ length: threads - 1 }, () => ReplicaWorker.start(specs))) : [];
    return new Replicas(models, roles, workers, {
      minShardTokens: MIN_SHARD_TOKENS,
      minPartRowParameters: MIN_PART_ROW_PARAMETERS,
      minPartTokenParameters: MIN_PART_TOKEN_PARAMETERS,
      ...thresholds,
    });
  }

  /** The main thread's copy of the model of `role` (the one that is trained and checkpointed). */
  model(role: string): ReplicaModel {
    const m = this.models[role];
    if (!m) throw new Error(`no model for role "${role}"`);
    return m;
  }

  /** Threads that compute a step (1 = main thread only). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** How many threads `tokens` of work should be split over (1 = run it on the main thread). */
  partsFor(tokens: number): number {
    return Math.max(1, Math.min(this.threads, Math.floor(tokens / this.thresholds.minShardTokens)));
  }

  /** How many threads a forward pass over `tokens` through models of `parameters` in all should be split over. */
  partsForForward(tokens: number, parameters: number): number {
    return Math.max(1, Math.min(this.threads, Math.floor((tokens * parameters) / this.thresholds.minPartTokenParameters)));
  }

  /** How many threads a generation batch of `rows` on a model of `parameters` should be split over. */
  partsForRows(rows: number, parameters: number): number {
    return Math.max(1, Math.min(this.threads, rows, Math.floor((rows * parameters) / this.thresholds.minPartRowParameters)));
  }

  async grads<I>(task: GradTask<I>, input: I): Promise<StepGrads> {
    const parts = this.partsFor(task.tokens(input));
    const shards = parts > 1 ? task.split(input, parts) : [input];
    // Workers first: they compute while the main thread does shard 0.
    const remote = shards.slice(1).map((s, i) => this.worker(i).grads(task as GradTask<unknown>, this.roles, s));
    const local = computeGrads(this.models, this.roles, task, shards[0]!);
    const results = await settleRemote(remote, local);
    const vars = trainableVariables(this.models, this.roles);
    const grads: tf.NamedTensorMap = {};
    for (const [key, g] of Object.entries(local.grads)) {
      const v = vars[key]!;
      grads[v.name] =
        results.length === 0
          ? g
          : tf.tidy(() => tf.addN([g, ...results.map((r) => tf.tensor(r.grads[key]!, g.shape, 'float32'))]));
      if (results.length > 0) g.dispose();
    }
    const extras: Record<string, Float32Array> = {};
    for (const key of Object.keys(local.extras)) {
      const parts = [local.extras[key]!, ...results.map((r) => r.extras[key] ?? new Float32Array(0))];
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      extras[key] = out;
    }
    return { loss: results.reduce((s, r) => s + r.loss, local.loss), grads, extras };
  }

  /**
   * Gradients of independent tasks over disjoint trained roles (e.g. PPO's policy and value
   * losses, which share no parameters), one task per thread at the same time, the first on the
   * main thread. Each task's `roles` are the ones it trains and the only ones it may read.
   */
  async gradsTogether(parts: Array<{ task: GradTask<unknown>; input: unknown; roles: string[] }>): Promise<StepGrads[]> {
    if (parts.length > this.threads) throw new Error(`${parts.length} tasks for ${this.threads} threads`);
    const remote = parts.slice(1).map((p, i) => this.worker(i, p.roles).grads(p.task, p.roles, p.input));
    const first = parts[0]!;
    const local = computeGrads(this.models, first.roles, first.task, first.input);
    const byName = (roles: string[], grads: Record<string, tf.Tensor>): tf.NamedTensorMap => {
      const vars = trainableVariables(this.models, roles);
      return Object.fromEntries(Object.entries(grads).map(([key, g]) => [vars[key]!.name, g]));
    };
    const results = await settleRemote(remote, local);
    return [
      { loss: local.loss, grads: byName(first.roles, local.grads), extras: local.extras },
      ...results.map((r, i) => {
        const roles = parts[i + 1]!.roles;
        const vars = trainableVariables(this.models, roles);
        const grads = Object.fromEntries(Object.entries(r.grads).map(([key, g]) => [vars[key]!.name, tf.tensor(g, vars[key]!.shape, 'float32')]));
        return { loss: r.loss, grads, extras: r.extras };
      }),
    ];
  }

  /**
   * Runs a forward-only task on each of `inputs` (at most one per thread, e.g. rows of a batch
   * split with shardRanges), the first on the main thread; results in input order.
   */
  async map<I, O>(task: ReplicaTask<I, O>, inputs: I[]): Promise<O[]> {
    if (inputs.length > this.threads) throw new Error(`${inputs.length} inputs for ${this.threads} threads`);
    const remote = inputs.slice(1).map((input, i) => this.worker(i).run(task as ReplicaTask<unknown, unknown>, input) as Promise<O>);
    const local = inputs.length > 0 ? [task.run(this.models, inputs[0]!)] : [];
    return [...local, ...(await Promise.all(remote))];
  }

  /**
   * Marks the trained models' weights as changed (after each optimizer step). They reach a worker
   * just before its next task, so steps that run on the main thread alone (below the split
   * thresholds) copy nothing, and a worker never spends a core on weights it will not use.
   */
  syncWeights(): void {
    for (const w of this.workers) this.stale.set(w, new Set(this.roles));
  }

  /** Per worker, the trained roles whose weights changed since they were last sent to it. */
  private readonly stale = new Map<ReplicaWorker, Set<string>>();

  /**
   * The worker `i`, with the current weights of the roles the coming task uses (`needs`, default
   * every trained role) sent ahead of it if they changed.
   */
  private worker(i: number, needs: readonly string[] = this.roles): ReplicaWorker {
    const w = this.workers[i]!;
    const stale = this.stale.get(w);
    for (const role of needs) {
      if (!stale?.delete(role)) continue;
      const weights = weightsOf(this.models[role]!);
      w.send({ type: 'weights', role, weights }, Object.values(weights).map((a) => a.buffer as ArrayBuffer));
    }
    return w;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
