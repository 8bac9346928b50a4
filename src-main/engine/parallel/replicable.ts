// What the data-parallel trainer needs of a model to keep copies of it on replica workers, so
// parallel/ names no model class above it: a GPT is built in by the worker; any other model (the
// reward model with its head) says how it is rebuilt, and the module defining it registers the
// builder, which a worker imports by URL the way it imports a task's module.
import type * as tf from '@tensorflow/tfjs';
import type { ReplicaSpec } from './protocol.js';

export interface Replicable {
  /** Variables by stable name: the same keys on every replica. */
  namedVariables(): Record<string, tf.Variable>;
}

/** A model other than a plain GPT that replicas can hold. */
export interface CustomReplicable extends Replicable {
  /** What a worker needs to build a copy (kind and module as given to defineReplicaBuilder). */
  replicaSpec(): ReplicaSpec;
}

const builders = new Map<string, (spec: ReplicaSpec) => Replicable>();

/** Registers how a worker builds a replica of `kind`; call it at the top level of the module named in the spec. */
export function defineReplicaBuilder(kind: string, build: (spec: ReplicaSpec) => Replicable): void {
  builders.set(kind, build);
}

export function registeredReplicaBuilder(kind: string): (spec: ReplicaSpec) => Replicable {
  const b = builders.get(kind);
  if (!b) throw new Error(`no replica builder for "${kind}" is registered`);
  return b;
}
