// A project on disk with prompts, K responses each and annotators, for the labeling tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Project } from '../../../src-main/store/project.js';

export interface Fixture {
  project: Project;
  dir: string;
  prompts: { id: number; responses: number[] }[];
  cleanup(): void;
}

export function makeProject(nPrompts = 3, k = 4): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'rlhf-label-'));
  const project = Project.open(join(dir, 'p.rlhf'), { create: true });
  const prompts = Array.from({ length: nPrompts }, (_, i) => {
    const { id } = project.prompts.upsert(`How do I reset my password? (case ${i + 1})`);
    const responses = Array.from(
      { length: k },
      (_, j) => project.responses.upsert({ promptId: id, text: `Answer ${j + 1} to case ${i + 1}`, source: 'import' }).id,
    );
    return { id, responses };
  });
  return {
    project,
    dir,
    prompts,
    cleanup() {
      project.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
