// Writes the demo corpus as JSONL files that `rlhf-lab import` reads, so the data behind the demo
// project can be inspected or reused: `npx tsx scripts/build-demo-data.ts [--seed S] [--out DIR]`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCorpus } from '../src-main/demo/corpus.js';
import { Rng } from '../src-main/engine/rng.js';

const { values } = parseArgs({
  options: { seed: { type: 'string', default: '1' }, out: { type: 'string', default: 'resources/demo/data' } },
});
const seed = Number(values.seed);
const corpus = buildCorpus(new Rng(seed));
const out = values.out;
mkdirSync(out, { recursive: true });
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const files: Record<string, unknown[]> = {
  'prompts.train.jsonl': corpus.train.map((p) => ({ prompt: p.text, topic: p.topic })),
  'prompts.eval.jsonl': corpus.eval.map((p) => ({ prompt: p.text, topic: p.topic })),
  'sft.jsonl': corpus.sft.map(({ prompt, completion }) => ({ prompt, completion })),
  'pretrain.jsonl': corpus.pretrain.map(({ prompt, completion }) => ({ prompt, completion })),
};
for (const [name, rows] of Object.entries(files)) {
  writeFileSync(join(out, name), jsonl(rows));
  process.stderr.write(`${join(out, name)}: ${rows.length} records\n`);
}
