// What the RL stages' CLI tests share (rloo-grpo-cli, lora-rl-cli): the `train`/`model` commands
// run in-process with --json, and a tiny project of ranked answers about twelve animals (ten
// training prompts, two held out) that a reward model learns in seconds.
import { expect } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { modelCommand } from '../../../src-main/cli/commands/model.js';
import { trainCommand } from '../../../src-main/cli/commands/train.js';
import type { Project } from '../../../src-main/store/project.js';

export interface TrainOutput {
  run: number;
  checkpoint: number;
  metrics: Record<string, number>;
}

/** `rlhf-lab model …` or `rlhf-lab train …` with --json: exit 0 and one JSON object, returned. */
export async function run(argv: string[]): Promise<TrainOutput> {
  const outputs: unknown[] = [];
  const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: () => {}, err: () => {} };
  const cmd = argv[0] === 'model' ? modelCommand : trainCommand;
  const status = await cmd.run([...argv.slice(1), '--json'], io);
  expect(status).toBe(0);
  expect(outputs).toHaveLength(1);
  return outputs[0] as TrainOutput;
}

export const animals = ['cat', 'dog', 'cow', 'owl', 'fox', 'bee', 'ant', 'elk', 'yak', 'eel', 'emu', 'gnu'];

/** A prompt per animal with three answers ranked best (longest) to worst. */
export function addRankedAnimals(p: Project): void {
  const who = p.annotators.ensure('ann');
  animals.forEach((a, i) => {
    const prompt = p.prompts.upsert(`Tell me about the ${a}.`, { split: i < 10 ? 'train' : 'eval' }).id;
    const ids = [`The ${a} is good and good.`, `The ${a} is good.`, `The ${a} is small.`].map(
      (text) => p.responses.upsert({ promptId: prompt, text, source: 'human' }).id,
    );
    p.preferences.insertRanking({ uid: `r${i}`, promptId: prompt, annotatorId: who, ranking: [[ids[0]!], [ids[1]!], [ids[2]!]], source: 'human' });
  });
}

/** Per step, one metric of a run as it was logged. */
export function curve(p: Project, runId: number, key: string): number[] {
  return (p.runs.metricsFor(runId)[key] ?? []).map((m) => m.value);
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export const sets = (xs: string[]) => xs.flatMap((x) => ['--set', x]);
