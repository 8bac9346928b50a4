// `rlhf-lab demo`'s arguments: --rl and --seeds are checked before anything runs (the runs
// themselves are in tests/main/demo/rl-methods.test.ts, on a miniature demo project).
import { describe, expect, it } from 'vitest';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { InputError } from '../../../src-main/shared/errors.js';
import { demoCommand, parseSeeds } from '../../../src-main/cli/commands/demo.js';

const io: CommandIO = { json: true, out: () => {}, progress: () => {}, err: () => {} };

describe('rlhf-lab demo arguments', () => {
  it('reads --seeds as a list of distinct non-negative integers', () => {
    expect(parseSeeds('4,5,6')).toEqual([4, 5, 6]);
    expect(parseSeeds(' 7 ')).toEqual([7]);
    expect(() => parseSeeds('4,x')).toThrow(InputError);
    expect(() => parseSeeds('4,-1')).toThrow(/not a non-negative integer/);
    expect(() => parseSeeds('4,4')).toThrow(/twice/);
  });

  it('refuses an unknown --rl method, --seed with --seeds, and --overoptimization with either, before running anything', async () => {
    await expect(demoCommand.run(['--quick', '--rl', 'ppo,dpo'], io)).rejects.toThrow(/--rl: "dpo" is not an RL method: give one or more of ppo, rloo, grpo/);
    await expect(demoCommand.run(['--rl', 'rloo,rloo'], io)).rejects.toThrow(InputError);
    await expect(demoCommand.run(['--seed', '1', '--seeds', '4,5'], io)).rejects.toThrow(/--seed or --seeds, not both/);
    await expect(demoCommand.run(['--overoptimization', '--rl', 'grpo'], io)).rejects.toThrow(/--overoptimization/);
    await expect(demoCommand.run(['--overoptimization', '--seeds', '4,5'], io)).rejects.toThrow(/--overoptimization/);
  });
});
