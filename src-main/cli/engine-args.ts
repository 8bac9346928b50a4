// Argument helpers shared by the engine's commands (model, train, generate, logprobs).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Project, ProjectNotFoundError } from '../store/project.js';
import { InputError } from '../shared/errors.js';

export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(command: string, usage: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, json: { type: 'boolean', default: false } } });
  } catch (e) {
    throw new InputError(`${command}: ${(e as Error).message}\nusage: rlhf-lab ${usage}`);
  }
}

export function openProject(file: string): Project {
  try {
    return Project.open(file);
  } catch (e) {
    if (e instanceof ProjectNotFoundError) throw new InputError(e.message);
    throw e;
  }
}

/** A positive integer flag or positional; `what` names it in the error. */
export function positiveInt(value: string | undefined, what: string): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n <= 0) throw new InputError(`${what}: "${value ?? ''}" is not a positive integer`);
  return n;
}

export function optionalNumber(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`${what}: "${value}" is not a number`);
  return n;
}

/** A checkpoint id that exists in the project. */
export function checkpointArg(project: Project, value: string | undefined, flag: string): number {
  const id = positiveInt(value, flag);
  if (!project.checkpoints.get(id)) throw new InputError(`${project.path}: checkpoint ${id} does not exist (see "rlhf-lab model list ${project.path}")`);
  return id;
}
