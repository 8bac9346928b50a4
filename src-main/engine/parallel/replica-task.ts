// A forward-only task (generation, scoring) that runs on replicas of the models: the main thread
// runs one part of the work and each replica worker another, at the same time. Registered by the
// module that defines it, like gradient tasks (grad-task.ts).
import type { ModelSet } from './grad-task.js';

export interface ReplicaTask<I, O> {
  name: string;
  /** `import.meta.url` of the module that defines (and registers) the task. */
  module: string;
  /** Plain data in and out: inputs and results cross threads by structured clone. */
  run(models: ModelSet, input: I): O;
}

const registry = new Map<string, ReplicaTask<unknown, unknown>>();

export function defineReplicaTask<I, O>(task: ReplicaTask<I, O>): ReplicaTask<I, O> {
  registry.set(task.name, task as ReplicaTask<unknown, unknown>);
  return task;
}

export function registeredReplicaTask(name: string): ReplicaTask<unknown, unknown> {
  const t = registry.get(name);
  if (!t) throw new Error(`no replica task "${name}" is registered`);
  return t;
}
