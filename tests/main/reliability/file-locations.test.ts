// Creating a project or a backup under a virtual filesystem used to send the recursive mkdir
// into an endless loop (the server burned CPU and ignored SIGTERM). Now every location is
// checked first and refused with a message naming the path.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWritableLocation, ProjectLocationError } from '../../../src-main/store/location.js';
import { backupProject } from '../../../src-main/store/backup.js';
import { tempDir, tempProject } from '../store/temp-project.js';

/** project.create through the API, in a child process that must finish (a hang is killed and fails the test). */
function createThroughApi(path: string): { status: number | null; out: string } {
  const script = `
    import { Services } from './src-main/api/services.ts';
    import { dispatch } from './src-main/api/router.ts';
    import { handlers } from './src-main/api/handlers/index.ts';
    const s = new Services({ dataDir: ${JSON.stringify(tempDir())} });
    const r = await dispatch(handlers, 'project.create', { path: ${JSON.stringify(path)} }, { app: s, annotatorId: null });
    console.log(JSON.stringify(r));
    await s.close();`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000, killSignal: 'SIGKILL', encoding: 'utf8' });
  return { status: res.status, out: res.stdout + res.stderr };
}

describe('where projects and backups may be written', () => {
  it.runIf(process.platform === 'linux')('refuses a project under /proc at once, through the API', () => {
    const { status, out } = createThroughApi('/proc/nope/x.rlhf');
    expect(status).toBe(0);
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.ok).toBe(false);
    expect(result.error.code).toBe('bad_location');
    expect(result.error.message).toMatch(/\/proc\/nope\/x\.rlhf: \/proc is a system folder/);
  });

  it('refuses a parent that is a file, a folder without write permission, and /sys', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain'), 'x');
    expect(() => checkWritableLocation(join(dir, 'plain', 'sub', 'p.rlhf'))).toThrow(/is a file, not a folder/);
    if (process.platform === 'linux') expect(() => checkWritableLocation('/sys/kernel/x.rlhf')).toThrow(ProjectLocationError);
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    // root may write anywhere: the permission check only means something for other users.
    if (process.getuid?.() !== 0) expect(() => checkWritableLocation(join(locked, 'p.rlhf'))).toThrow(/cannot write in/);
    expect(() => checkWritableLocation(join(dir, 'new', 'deeper', 'p.rlhf'))).not.toThrow();
  });

  it('refuses a backup under /proc before writing anything', async () => {
    const project = tempProject();
    await expect(backupProject(project.db, '/proc/self/nope/b.rlhf')).rejects.toThrow(ProjectLocationError);
    project.close();
  });
});
