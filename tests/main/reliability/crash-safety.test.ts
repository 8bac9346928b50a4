// Crash safety (issue 10): a training run killed with SIGKILL at random moments — mid-step,
// mid-checkpoint, mid-metrics write — while judgments are being submitted next to it. After
// every kill the project file passes `PRAGMA integrity_check`, every judgment submitted before
// the kill is there, the run's last checkpoint loads with its sha256 verified, and the run
// resumes; at the end a last resume trains on past the last kill with one loss point per step.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../src-main/engine/io/checkpoint-io.js';
import { createNewModel } from '../../../src-main/engine/models/new-model.js';
import { Rng } from '../../../src-main/engine/rng.js';
import { Project } from '../../../src-main/store/project.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const KILLS = Number(process.env.RLHF_CRASH_KILLS ?? 20);
// Far more steps than the test ever reaches, so every kill lands in a live run whatever the machine's speed.
const STEPS = 100_000;

let dir: string;
let file: string;
let base: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crash-'));
  file = join(dir, 'crash.rlhf');
  const p = Project.open(file, { create: true });
  for (const w of ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta']) {
    p.sft.insert({ kind: 'completion', prompt: `Spell ${w}:`, completion: ` ${w.split('').join(' ')}` });
  }
  base = createNewModel(p, { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 32, vocab_size: 512 }).checkpoint;
  p.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `rlhf-lab train sft` (new or resumed) and resolves once it has printed or died. */
function train(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/rlhf-lab.js'), 'train', 'sft', file, ...args, '--json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal, out, err })),
  );
  return { child, done };
}

describe('SIGKILL during training', () => {
  it(`leaves the project intact, every judgment kept and the run resumable (${KILLS} kills)`, async () => {
    const rng = new Rng(20261126);
    const p = Project.open(file);
    const who = p.annotators.ensure('annotator');
    const prompt = p.prompts.upsert('Where is my order?', { split: 'train' }).id;
    const a = p.responses.upsert({ promptId: prompt, text: 'Check your tracking number.', source: 'human' }).id;
    const b = p.responses.upsert({ promptId: prompt, text: "I'm sorry to hear that. Please check your tracking number.", source: 'human' }).id;
    let submitted = 0;
    let runId: number | null = null;
    const killedAtSteps: number[] = [];

    for (let kill = 0; kill < KILLS; kill++) {
      const args = runId === null ? ['--from', String(base), '--set', `max_steps=${STEPS}`, '--set', 'batch_size=2', '--set', 'checkpoint_every=2', '--set', 'eval_every=5'] : ['--resume', String(runId)];
      const { child, done } = train(args);
      // Judgments keep arriving while the run trains, as in a labeling session.
      const judge = setInterval(() => {
        p.preferences.insertRanking({ uid: `j${submitted}`, promptId: prompt, annotatorId: who, ranking: [[b], [a]], source: 'human' });
        submitted++;
      }, 40);
      // Kill somewhere between start-up and well into training: some kills land in the engine's
      // start-up, most mid-step or mid-checkpoint.
      const timer = new Promise((r) => setTimeout(r, 1500 + rng.next() * 4500));
      const exit = await Promise.race([timer.then(() => (child.kill('SIGKILL'), done)), done]);
      clearInterval(judge);
      expect(exit.signal, exit.err).toBe('SIGKILL');

      // The file as a fresh process would find it.
      const raw = new Database(file, { readonly: true });
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((raw.prepare('SELECT count(*) AS n FROM rankings').get() as { n: number }).n).toBe(submitted);
      raw.close();

      runId ??= p.runs.listRuns('sft')[0]?.id ?? null;
      if (runId === null) continue; // killed before the run row existed: nothing to resume yet
      const run = p.runs.get(runId)!;
      expect(run.status).not.toBe('failed');
      const last = p.checkpoints.lastOfRun(runId);
      if (last) expect(() => loadModel(p, last.id)).not.toThrow();
      killedAtSteps.push(run.step);
    }
    expect(runId).not.toBeNull();
    // One more resume: it trains on from the last checkpoint, and the curve has no gap or duplicate.
    const before = p.runs.get(runId!)!.step;
    const last = train(['--resume', String(runId)]);
    const deadline = Date.now() + 120_000;
    while (p.runs.get(runId!)!.step < before + 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    last.child.kill('SIGKILL');
    await last.done;
    const steps = p.runs.metricsFor(runId!, ['loss']).loss!.map((m) => m.step);
    expect(steps.length).toBeGreaterThanOrEqual(before + 10);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    console.log(`crash safety: ${KILLS} SIGKILLs survived at run steps ${killedAtSteps.join(', ')}; ${submitted} judgments kept`);
    p.close();
  }, 600_000);
});
