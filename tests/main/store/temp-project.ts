// A fresh project file in a temp directory, removed after the test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { Project } from '../../../src-main/store/project.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rlhf-store-'));
  dirs.push(d);
  return d;
}

export function tempProject(): Project {
  return Project.open(join(tempDir(), 'p.rlhf'), { create: true });
}
