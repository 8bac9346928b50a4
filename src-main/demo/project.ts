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
    project.labeling.setGuidelines(readFileSync(DEMO_GUIDELINES, 'utf8'));
    const meta = project.db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    meta.run('demo', 'customer-support');
    meta.run('demo_seed', String(seed));
  })();
}
