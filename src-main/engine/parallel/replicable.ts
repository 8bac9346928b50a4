// What the data-parallel trainer needs of a model to keep copies of it on replica workers, so
// parallel/ names no model class above it: a GPT is built in by the worker; any other model (the
// reward model with its head) says how it is rebuilt, and the module defining it registers the
// builder, which a worker imports by URL the way it imports a task's module.
import type * as tf from '@tensorflow/tfjs';
import type { GPT } from '../models/model.js';
import type { ReplicaSpec } from './protocol.js';

export interface Replicable {
  /** Variables by stable name: the same keys on every replica. */
  namedVariables(): Record<string, tf.Variable>;
}

/** A model other than a plain GPT that replicas can hold: a GPT backbone and tensors of its own (e.g. a head). */
export interface CustomReplicable extends Replicable {
  /** The GPT it runs on; the trainer ships its weights and adapters (or names the role it shares them with). */
  readonly backbone: GPT;
  /** What a worker needs besides the backbone (kind and module as given to defineReplicaBuilder, the model's own tensors). */
  replicaSpec(): Omit<ReplicaSpec, 'config'>;
}

/** Builds a replica from its spec and its backbone, which the worker has already built (weights, adapters, sharing). */
export type ReplicaBuilder = (spec: ReplicaSpec, backbone: GPT) => Replicable;

const builders = new Map<string, ReplicaBuilder>();

/** Registers how a worker builds a replica of `kind`; call it at the top level of the module named in the spec. */
export function defineReplicaBuilder(kind: string, build: ReplicaBuilder): void {
  builders.set(kind, build);
}

export function registeredReplicaBuilder(kind: string): ReplicaBuilder {
  const b = builders.get(kind);
  if (!b) throw new Error(`no replica builder for "${kind}" is registered`);
  return b;
}
