// Fills a project with the demo's data: prompt splits (with their topic), SFT demonstrations, the
// labeling guidelines and the simulated annotators. Used by scripts/build-demo-model.ts to write
// resources/demo/demo-base.rlhf; the base checkpoint is added there.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Project } from '../store/project.js';
import type { DemoCorpus } from './corpus.js';
import { DEMO_ANNOTATORS } from './rubric.js';

const here = dirname(fileURLToPath(import.meta.url));
export const DEMO_RESOURCES = resolve(here, '../../resources/demo');
/** The demo data and the base model only: where `rlhf-lab demo` starts from. */
export const DEMO_BASE = resolve(DEMO_RESOURCES, 'demo-base.rlhf');
/** The demo project the app opens: the base project after one quick run of the pipeline. */
export const DEMO_PROJECT = resolve(DEMO_RESOURCES, 'demo.rlhf');
export const DEMO_GUIDELINES = resolve(DEMO_RESOURCES, 'GUIDELINES.md');

/** Share of SFT demonstrations held out for SFT's eval loss. */
const SFT_EVAL_SHARE = 0.1;

export function writeDemoData(project: Project, corpus: DemoCorpus, seed: number): void {
  project.db.transaction(() => {
    for (const p of corpus.train) project.prompts.upsert(p.text, { split: 'train', source: 'demo', meta: { topic: p.topic } });
    for (const p of corpus.eval) project.prompts.upsert(p.text, { split: 'eval', source: 'demo', meta: { topic: p.topic } });
    const nEval = Math.round(corpus.sft.length * SFT_EVAL_SHARE);
    corpus.sft.forEach((s, i) => {
      project.sft.insert({ kind: 'completion', prompt: s.prompt, completion: s.completion }, i < corpus.sft.length - nEval ? 'train' : 'eval');
    });
    for (const a of DEMO_ANNOTATORS) project.annotators.ensure(a.name, { colour: a.colour, simulated: true });
    project.guidelines.set(readFileSync(DEMO_GUIDELINES, 'utf8'));
    const meta = project.db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    meta.run('demo', 'customer-support');
    meta.run('demo_seed', String(seed));
  })();
  writeDemoValidation(project, corpus);
}

/**
 * The validation prompts, kept in project_meta rather than among the prompts: no stage trains on
 * them and Compare's splits never show them; the demo's settings are chosen on them alone.
 */
export function writeDemoValidation(project: Project, corpus: Pick<DemoCorpus, 'validation'>): void {
  project.db
    .prepare("INSERT INTO project_meta (key, value) VALUES ('demo_validation', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    .run(JSON.stringify(corpus.validation.map((p) => ({ text: p.text, topic: p.topic }))));
}

/** The demo's validation prompts (ids are negative: they are not rows of the prompts table). */
export function readDemoValidation(project: Project): { id: number; text: string }[] {
  const row = project.db.prepare<[], { value: string }>("SELECT value FROM project_meta WHERE key = 'demo_validation'").get();
  if (!row) throw new Error(`${project.path} has no validation prompts: rebuild it with "npm run build:demo-model", or add them with "npx tsx scripts/add-demo-validation.ts FILE"`);
  return (JSON.parse(row.value) as { text: string }[]).map((p, i) => ({ id: -(i + 1), text: p.text }));
}
