// The independent check of the webgpu backend: a GPT-2 folder written by Hugging Face transformers
// (tests/fixtures/gpt2-tiny, with transformers' own log-probs) imported and scored through the
// CLI with RLHF_BACKEND=webgpu on SwiftShader, the --json output naming the backend and adapter.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ENV, swiftShaderPresent, swiftShaderSuffix } from './swiftshader.js';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const bin = join(root, 'bin', 'rlhf-lab.js');
const fixture = join(root, 'tests', 'fixtures', 'gpt2-tiny');
const reference = JSON.parse(readFileSync(join(fixture, 'reference-logprobs.json'), 'utf8')) as { sequences: number[][]; logprobs: number[][] };
const dir = mkdtempSync(join(tmpdir(), 'webgpu-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], { encoding: 'utf8', env: { ...process.env, ...SWIFTSHADER_ENV } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe.skipIf(!swiftShaderPresent)(`GPT-2 from transformers on webgpu ${swiftShaderSuffix}`, () => {
  it('imports and gives transformers’ log-probs to 1e-3, the --json output naming webgpu', () => {
    const project = join(dir, 'p.rlhf');
    cli(['init', project]);
    const { checkpoint } = cli(['model', 'import', project, fixture]) as { checkpoint: number };
    // The longest reference sequence: every position of the 64-token context.
    const i = reference.sequences.reduce((best, s, k) => (s.length > reference.sequences[best]!.length ? k : best), 0);
    const out = cli(['logprobs', project, '--checkpoint', String(checkpoint), '--ids', reference.sequences[i]!.join(',')]) as {
      logprobs: number[];
      backend: string;
      adapter: { architecture: string } | null;
      backend_reason: string;
    };
    expect(out.backend).toBe('webgpu');
    expect(out.adapter?.architecture).toBe('swiftshader');
    expect(out.backend_reason).toMatch(/forced by RLHF_BACKEND=webgpu/);
    expect(out.logprobs).toHaveLength(reference.logprobs[i]!.length);
    const diff = Math.max(...out.logprobs.map((x, k) => Math.abs(x - reference.logprobs[i]![k]!)));
    expect(diff).toBeLessThan(1e-3);
  }, 120_000);
});
