// The real `rlhf-lab` binary as a child process: init, import, export, stats, backup, restore.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src-main/cli/index.js';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { createIO } from '../../../src-main/cli/io.js';
import { tempDir } from '../store/temp-project.js';

const BIN = join(import.meta.dirname, '../../../bin/rlhf-lab.js');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: tempDir() }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const prefs = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ prompt: `Question ${from + i}?`, chosen: `Good answer ${from + i}`, rejected: `Bad answer ${from + i}` })).join('\n') + '\n';

describe('rlhf-lab data commands (child process)', () => {
  it('init, import --json, a bad line 3 exits 2 naming it and imports nothing, export round-trips', async () => {
    const dir = tempDir();
    const project = join(dir, 'x.rlhf');
    expect((await cli('init', project)).code).toBe(0);
    const good = join(dir, 'prefs.jsonl');
    writeFileSync(good, prefs(5));
    const imported = await cli('import', project, good, '--as', 'preferences', '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({ imported: 5, skipped: 0 });

    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, prefs(2, 100) + '{"prompt": "broken", "chosen": "x"}\n' + prefs(2, 200));
    const failed = await cli('import', project, bad, '--as', 'preferences', '--json');
    expect(failed.code).toBe(2);
    expect(failed.stdout).toBe('');
    expect(failed.stderr.trim().split('\n').at(-1)).toBe(`${bad}:3: "rejected" is missing`);

    const stats = await cli('stats', project, '--json');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ prompts: 5, responses: 10, rankings: 5, pairs: 5, checkpoints: 0, runs: 0 });

    const out = join(dir, 'out.jsonl');
    const exported = await cli('export', project, out, '--as', 'preferences', '--json');
    expect(JSON.parse(exported.stdout)).toEqual({ path: out, count: 5 });
    expect(readFileSync(out, 'utf8')).toBe(prefs(5).replace(/": "/g, '":"').replace(/", "/g, '","'));
  });

  it('backup and restore a project', async () => {
    const dir = tempDir();
    const project = join(dir, 'y.rlhf');
    await cli('init', project);
    const data = join(dir, 'p.jsonl');
    writeFileSync(data, '{"prompt": "keep me"}\n');
    await cli('import', project, data, '--as', 'prompts');
    const backup = join(dir, 'y-backup.rlhf');
    expect(JSON.parse((await cli('backup', project, backup, '--json')).stdout)).toMatchObject({ path: backup });
    const restored = join(dir, 'z.rlhf');
    const r = await cli('restore', backup, restored, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ path: restored, prompts: 1 });
    expect((await cli('restore', backup, restored)).code).toBe(2);
  });
});

describe('npx rlhf-lab in the checkout', () => {
  it('resolves the package bin and lists every command', async () => {
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('npx', ['--no-install', 'rlhf-lab', '--help'], { cwd: join(import.meta.dirname, '../../..') }, (err, stdout) =>
        resolve({ code: err ? 1 : 0, stdout }),
      );
    });
    expect(r.code).toBe(0);
    for (const name of ['init', 'import', 'export', 'stats', 'backup', 'restore', 'serve']) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });
});

describe('rlhf-lab dispatch (in process)', () => {
  function capture(json = true): { io: CommandIO; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const io = createIO(json, { write: (s: string) => out.push(s) }, { write: (s: string) => err.push(s) });
    return { io, out, err };
  }

  it('exits 2 for an unknown command, bad flags, or a missing project; 0 for --help', async () => {
    let c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/unknown command "frobnicate"/);
    c = capture();
    expect(await main(['import', 'p.rlhf', 'f.jsonl', '--as', 'poems'], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/--as must be one of prompts, sft, preferences, rankings/);
    c = capture();
    expect(await main(['stats', join(tempDir(), 'missing.rlhf')], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/no such project file/);
    c = capture();
    expect(await main(['stats', '--bogus'], c.io)).toBe(2);
    c = capture(false);
    expect(await main(['import', '--help'], c.io)).toBe(0);
    expect(c.out.join('')).toMatch(/^usage: rlhf-lab import <project> <file> --as/);
  });

  it('draws progress as a bar on a terminal and as plain lines otherwise', () => {
    const tty: string[] = [];
    createIO(false, { write: () => {} }, { write: (s: string) => tty.push(s), isTTY: true, columns: 100 }).progress(50, 100, 'lines');
    expect(tty.join('')).toContain('[###############---------------]  50% 50 lines / 100 lines');
    const plain: string[] = [];
    const io = createIO(false, { write: () => {} }, { write: (s: string) => plain.push(s) });
    io.progress(1, 100, 'bytes');
    io.progress(2, 100, 'bytes'); // throttled
    io.progress(100, 100, 'bytes');
    expect(plain).toEqual(['1% 1 B / 100 B\n', '100% 100 B / 100 B\n']);
  });
});
