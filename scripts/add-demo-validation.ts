// Adds the demo corpus's validation prompts to an existing demo project (one built before the
// corpus had a validation split): `npx tsx scripts/add-demo-validation.ts FILE [--pretrain-texts N]`.
// The corpus is regenerated from the project's seed; the other splits come out as they were built.
import { parseArgs } from 'node:util';
import { buildCorpus } from '../src-main/demo/corpus.js';
import { writeDemoValidation } from '../src-main/demo/project.js';
import { Rng } from '../src-main/engine/rng.js';
import { Project } from '../src-main/store/project.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'pretrain-texts': { type: 'string', default: '8000' } } });
const file = positionals[0];
if (!file) throw new Error('usage: add-demo-validation.ts FILE [--pretrain-texts N]');
const project = Project.open(file);
try {
  const seed = project.db.prepare<[], { value: string }>("SELECT value FROM project_meta WHERE key = 'demo_seed'").get();
  if (!seed) throw new Error(`${file} is not a demo project (no demo_seed)`);
  const corpus = buildCorpus(new Rng(Number(seed.value)), { pretrainTexts: Number(values['pretrain-texts']) });
  // The regenerated train and eval splits must be the stored ones, or the seed or options differ.
  const stored = new Set([...project.prompts.iterate()].map((p) => p.text));
  const missing = [...corpus.train, ...corpus.eval].filter((p) => !stored.has(p.text)).length;
  if (missing > 0) throw new Error(`${missing} regenerated prompts are not in ${file}: wrong seed or --pretrain-texts`);
  if (corpus.validation.some((p) => stored.has(p.text))) throw new Error('a validation prompt is already among the project prompts');
  writeDemoValidation(project, corpus);
  process.stderr.write(`${file}: ${corpus.validation.length} validation prompts\n`);
} finally {
  project.close();
}
