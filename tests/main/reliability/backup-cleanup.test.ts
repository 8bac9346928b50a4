// A backup killed part-way used to leave `<dest>.partial` (up to the project's size) until the
// next backup. Now the next open of the project removes it (issue 19).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project } from '../../../src-main/store/project.js';
import { tempDir } from '../store/temp-project.js';

describe('a backup killed part-way', () => {
  it('leaves nothing behind once the project is opened again', () => {
    const dir = tempDir();
    const file = join(dir, 'big.rlhf');
    const p = Project.open(file, { create: true });
    p.db.transaction(() => {
      for (let i = 0; i < 4000; i++) p.prompts.upsert(`prompt ${i} ${'lorem ipsum '.repeat(200)}`);
    })();
    p.close();
    expect(statSync(file).size).toBeGreaterThan(8 * 1024 * 1024); // more than one 4 MB backup step
    const dest = join(dir, 'copy.rlhf');
    // The child SIGKILLs itself after the first step: the partial copy exists and nothing can remove it.
    const script = `
      import { backupProject } from './src-main/store/backup.ts';
      import { Project } from './src-main/store/project.ts';
      const p = Project.open(${JSON.stringify(file)});
      await backupProject(p.db, ${JSON.stringify(dest)}, () => process.kill(process.pid, 'SIGKILL'));`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(res.signal).toBe('SIGKILL');
    expect(existsSync(`${dest}.partial`)).toBe(true);
    expect(existsSync(dest)).toBe(false);
    Project.open(file).close();
    expect(existsSync(`${dest}.partial`)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['big.rlhf']);
  });
});
