// A replica worker: its own tfjs (wasm) instance on the second core, holding copies of the
// trainer's models. It computes the loss and gradients of its shard of each step and receives
// the updated weights after every optimizer step.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/backend.js';
import { GPT } from '../models/model.js';
import type { LoraConfigInput } from '../models/lora.js';
import { computeGrads, registeredGradTask, type ModelSet, type ReplicaModel } from './grad-task.js';
import { registeredReplicaTask } from './replica-task.js';
import { registeredReplicaBuilder } from './replicable.js';
import type { FromReplica, ReplicaSpec, ReplicaWorkerInput, ToReplica } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('replica-worker.ts must run in a worker thread');
const input = workerData as ReplicaWorkerInput;
const post = (m: FromReplica, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** The GPT a replica runs on: its own weights, or those of an earlier role's (shared, not copied), plus its adapters. */
function backboneOf(spec: ReplicaSpec, built: ModelSet): GPT {
  let model: GPT;
  if (spec.base !== undefined) {
    const owner = built[spec.base];
    if (!owner) throw new Error(`replica shares the base weights of role "${spec.base}", which is not built before it`);
    model = ('replicaSpec' in owner ? owner.backbone : owner).shareBase();
  } else {
    model = GPT.fromWeights(spec.config, spec.weights);
  }
  if (spec.lora) model.loadLora(spec.lora.config as LoraConfigInput, spec.lora.weights);
  return model;
}

async function build(spec: ReplicaSpec, built: ModelSet): Promise<ReplicaModel> {
  const backbone = backboneOf(spec, built);
  if (spec.kind === 'gpt') return backbone;
  if (!spec.module) throw new Error(`replica "${spec.kind}" names no module that builds it`);
  await import(spec.module);
  return registeredReplicaBuilder(spec.kind)(spec, backbone) as ReplicaModel;
}

function setWeights(model: ReplicaModel, weights: Record<string, Float32Array>): void {
  tf.tidy(() => {
    for (const [name, v] of Object.entries(model.namedVariables())) {
      const w = weights[name];
      if (w) v.assign(tf.tensor(w, v.shape, 'float32'));
    }
  });
}

async function handle(models: ModelSet, m: ToReplica): Promise<void> {
  if (m.type === 'weights') {
    const model = models[m.role];
    if (!model) throw new Error(`no replica for role "${m.role}"`);
    setWeights(model, m.weights);
    return;
  }
  try {
    await import(m.module);
    if (m.type === 'run') {
      post({ type: 'result', id: m.id, output: registeredReplicaTask(m.task).run(models, m.input) });
      return;
    }
    const r = computeGrads(models, m.roles, registeredGradTask(m.task), m.input);
    const grads: Record<string, Float32Array> = {};
    for (const [k, g] of Object.entries(r.grads)) {
      grads[k] = g.dataSync() as Float32Array;
      g.dispose();
    }
    const buffers = [...Object.values(grads), ...Object.values(r.extras)].map((a) => a.buffer as ArrayBuffer);
    post({ type: 'grads', id: m.id, loss: r.loss, grads, extras: r.extras }, buffers);
  } catch (e) {
    post({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) });
  }
}

try {
  await initBackend(input.backend);
  // In order: a role that shares another's base weights comes after it.
  const models: ModelSet = {};
  for (const [role, spec] of Object.entries(input.specs)) models[role] = await build(spec, models);
  // One message at a time, in order: weights always arrive before the step that needs them.
  let queue = Promise.resolve();
  port.on('message', (m: ToReplica) => {
    queue = queue.then(() => handle(models, m)).catch((e: unknown) => post({ type: 'error', id: null, message: e instanceof Error ? e.message : String(e) }));
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'error', id: null, message: e instanceof Error ? e.message : String(e) });
}
