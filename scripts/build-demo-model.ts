// Builds the demo projects (`npm run build:demo-model`): generates the seeded demo corpus, trains a
// byte-level BPE tokenizer and a tiny GPT on its pretraining text, and writes
// resources/demo/demo-base.rlhf with the prompt splits, SFT demonstrations, guidelines, the
// simulated annotators and the base checkpoint. With --with-runs it then runs the quick demo
// pipeline on a copy and writes the result as resources/demo/demo.rlhf, the project the app opens
// (runs, label task, rankings and checkpoints already there). Reproducible for a seed on one backend.
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/engine/backend/backend.js';
import { saveModel } from '../src-main/engine/io/checkpoint-io.js';
import { GPT } from '../src-main/engine/models/model.js';
import { Rng } from '../src-main/engine/rng.js';
import { encodeSftExample, sftConfigSchema, trainSft, type SftSequence } from '../src-main/engine/train/sft.js';
import { TextTokenizer } from '../src-main/engine/models/tokenizer.js';
import { buildCorpus } from '../src-main/demo/corpus.js';
import { runDemo } from '../src-main/demo/pipeline.js';
import { DEMO_BASE, DEMO_PROJECT, writeDemoData } from '../src-main/demo/project.js';
import { Project } from '../src-main/store/project.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: DEMO_BASE },
    'with-runs': { type: 'boolean', default: false },
    'runs-out': { type: 'string', default: DEMO_PROJECT },
    vocab: { type: 'string', default: '1024' },
    layers: { type: 'string', default: '2' },
    heads: { type: 'string', default: '4' },
    embd: { type: 'string', default: '128' },
    ctx: { type: 'string', default: '64' },
    epochs: { type: 'string', default: '2' },
    'pretrain-texts': { type: 'string', default: '8000' },
  },
});
const seed = Number(values.seed);
const started = performance.now();
const say = (msg: string): void => void process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);

const backend = await initBackend();
say(`backend ${backend.name} (${backend.reason})`);
const corpus = buildCorpus(new Rng(seed), { pretrainTexts: Number(values['pretrain-texts']) });
say(`corpus: ${corpus.train.length} train / ${corpus.eval.length} eval prompts, ${corpus.sft.length} SFT demonstrations, ${corpus.pretrain.length} pretraining texts`);

const tokenizer = TextTokenizer.train(
  corpus.pretrain.flatMap((p) => [p.prompt, p.completion]),
  Number(values.vocab),
);
const config = {
  vocab_size: tokenizer.vocabSize,
  n_positions: Number(values.ctx),
  n_embd: Number(values.embd),
  n_layer: Number(values.layers),
  n_head: Number(values.heads),
  layer_norm_epsilon: 1e-5,
  dropout: 0,
};
const model = GPT.create(config, seed);
say(`tokenizer: ${tokenizer.vocabSize} tokens; model: ${model.parameterCount().toLocaleString('en')} parameters`);

// Pretraining text is laid out exactly as SFT lays out a prompt/completion pair (the layout every
// later stage uses), with the loss on every token: the base model learns customers and replies alike.
const sequences: SftSequence[] = [];
for (const p of corpus.pretrain) {
  const seq = encodeSftExample({ kind: 'completion', prompt: p.prompt, completion: p.completion }, tokenizer, config.n_positions);
  if (seq) sequences.push({ ids: seq.ids, targets: seq.ids.map((_, i) => i > 0) });
}
const nEval = 256;
const sftConfig = sftConfigSchema.parse({
  seed,
  epochs: Number(values.epochs),
  batch_size: 32,
  lr: 2e-3,
  warmup_steps: 30,
  min_lr_ratio: 0.1,
  max_length: config.n_positions,
  eval_every: 100,
  checkpoint_every: 1_000_000,
});
const result = await trainSft(model, { train: sequences.slice(nEval), eval: sequences.slice(0, nEval) }, sftConfig, tokenizer.padId, {
  onStep: (step, m) => {
    if (step % 20 === 0) say(`pretrain step ${step}: loss ${m.loss!.toFixed(3)}, ${Math.round(m.tokens_per_second!)} tok/s`);
  },
  onEval: (step, m) => say(`pretrain step ${step}: eval loss ${m['eval/loss']?.toFixed(3)}`),
});

if (existsSync(values.out)) rmSync(values.out);
for (const suffix of ['-wal', '-shm']) if (existsSync(values.out + suffix)) rmSync(values.out + suffix);
const project = Project.open(values.out, { create: true });
writeDemoData(project, corpus, seed);
const id = saveModel(project, {
  name: 'demo-base',
  stage: 'base',
  model,
  tokenizer,
  step: result.step,
  extra: {
    metrics: result.metrics,
    pretraining: { seed, texts: sequences.length, epochs: sftConfig.epochs, backend: backend.name },
  },
});
project.db.pragma('wal_checkpoint(TRUNCATE)');
project.close();
model.dispose();
say(`wrote ${values.out} (${(statSync(values.out).size / 1e6).toFixed(1)} MB): base checkpoint ${id}, eval loss ${result.metrics['eval/loss']?.toFixed(3)}`);

if (values['with-runs']) {
  const dir = mkdtempSync(join(tmpdir(), 'demo-build-'));
  const report = await runDemo({
    quick: true,
    seed,
    source: values.out,
    out: dir,
    log: say,
    progress: (stage, done, total) => {
      if (done === total) say(`${stage}: ${done}/${total}`);
    },
  });
  copyFileSync(report.project, values['runs-out']);
  rmSync(dir, { recursive: true, force: true });
  const g = report.compare.gold;
  say(
    `wrote ${values['runs-out']} (${(statSync(values['runs-out']).size / 1e6).toFixed(1)} MB): reward-model accuracy ` +
      `${report.stages.rm.eval_accuracy?.toFixed(3)}, gold win rate ${g.win_rate.toFixed(3)} [${g.ci_low.toFixed(3)}, ${g.ci_high.toFixed(3)}]`,
  );
}
