// Labelers during a large import (issue 19): `serve --lan` in this process, a 600k-record import
// running as a job, and L invited teammates submitting judgments over HTTP the whole time. Prints
// the import's wall time and the judgments' latency (p50/p95/max) while it ran, plus the latency
// of project.stats (full counts: a scan of every table, asked every 2 s). Run: npx tsx bench/import-while-labeling.ts [records=600000] [labelers=8] [kind=preferences]
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result } from '../src-main/shared/contract.js';
import { Services } from '../src-main/api/services.js';
import { startServer } from '../src-main/server.js';

const RECORDS = Number(process.argv[2] ?? 600_000);
const LABELERS = Number(process.argv[3] ?? 8);
const KIND = (process.argv[4] ?? 'preferences') as 'preferences' | 'prompts';
const VIA_CLI = process.argv[5] === 'cli';
const dir = mkdtempSync(join(tmpdir(), 'rlhf-import-labeling-'));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

try {
  const file = join(dir, 'big.jsonl');
  const out = createWriteStream(file);
  for (let i = 0; i < RECORDS; i++) {
    const line =
      KIND === 'prompts'
        ? JSON.stringify({ prompt: `Imported question ${i}: what would you do?` })
        : JSON.stringify({ prompt: `Imported question ${i}: what would you do?`, chosen: `Call support about case ${i}.`, rejected: `Ignore case ${i}.` });
    if (!out.write(line + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');

  const services = new Services({ dataDir: join(dir, 'home') });
  const p = services.openProject(join(dir, 'p.rlhf'), { create: true });
  for (let i = 0; i < 400; i++) {
    const { id } = p.prompts.upsert(`Customer ${i}: my parcel is late, what now?`);
    for (let j = 0; j < 2; j++) p.responses.upsert({ promptId: id, text: `Answer ${j} for customer ${i}`, source: 'import' });
  }
  const server = await startServer({ services, lan: true, host: '127.0.0.1' });
  // A kept-alive socket the server has just closed fails at once with ECONNRESET: send again.
  const post = async <T>(method: string, input: unknown, token?: string): Promise<{ ms: number; res: Result<T> }> => {
    try {
      return await postOnce<T>(method, input, token);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
      return postOnce<T>(method, input, token);
    }
  };
  const postOnce = <T>(method: string, input: unknown, token?: string): Promise<{ ms: number; res: Result<T> }> => {
    const t0 = performance.now();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) Object.assign(headers, { host: `192.0.2.10:${server.port}`, authorization: `Bearer ${token}` });
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ms: performance.now() - t0, res: JSON.parse(Buffer.concat(chunks).toString()) as Result<T> }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(input));
    });
  };
  const created = await post<{ task: { id: number } }>('label.createTask', { name: 'bench', mode: 'ranking', k: 2, minAnnotators: LABELERS, seed: 1 });
  if (!created.res.ok) throw new Error(created.res.error.message);
  const taskId = created.res.value.task.id;
  const tokens = Array.from({ length: LABELERS }, (_, a) => p.invites.create(p.annotators.ensure(`labeler-${a}`))!.token);

  const t0 = performance.now();
  // records = 0: the same labelers for 30 s without an import, the baseline on this machine.
  let running = () => performance.now() - t0 < 30_000;
  let writing = running;
  let jobId: string | null = null;
  let cli: Promise<string> | null = null;
  if (RECORDS > 0 && VIA_CLI) {
    // The import in another process (`rlhf-lab import`), as a user running the CLI beside `serve`.
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'rlhf-lab.js'), 'import', p.path, file, '--as', KIND], { stdio: 'ignore' });
    let exited = false;
    cli = new Promise((resolve) => child.once('exit', (code) => ((exited = true), resolve(`exit ${code}`))));
    running = () => !exited;
    // The CLI's write pass is visible as new prompts beyond the task's 400 (max(id): an index lookup, not a count).
    const lastPrompt = p.db.prepare('SELECT max(id) AS id FROM prompts');
    writing = () => !exited && (lastPrompt.get() as { id: number }).id > 400;
  } else if (RECORDS > 0) {
    const started = await post<{ id: string }>('data.import', { file, as: KIND });
    if (!started.res.ok) throw new Error(started.res.error.message);
    const id = started.res.value.id;
    jobId = id;
    running = () => services.jobs.get(id).status === 'running';
    writing = () => running() && (services.jobs.get(id).progress?.message ?? '').startsWith('wrote');
  }
  const submits: number[] = [];
  const submitsWhileWriting: number[] = [];
  const stats: number[] = [];
  let failures = 0;
  await Promise.all([
    ...tokens.map(async (token) => {
      while (running()) {
        const next = await post<{ item: { id: number }; responses: { id: number }[] } | null>('label.next', { taskId }, token);
        if (!next.res.ok || !next.res.value) break;
        const ids = next.res.value.responses.map((r) => r.id);
        const during = writing();
        const sent = await post('label.submit', { itemId: next.res.value.item.id, ranking: [[ids[0]], [ids[1]]], flags: [], comment: '', seconds_spent: 3 }, token);
        if (!sent.res.ok) failures++;
        submits.push(sent.ms);
        if (during && writing()) submitsWhileWriting.push(sent.ms);
        await new Promise((r) => setTimeout(r, 100)); // a labeler reads before the next judgment
      }
    }),
    (async () => {
      while (running()) {
        stats.push((await post('project.stats', {})).ms);
        // The Data view asks for the counts when it opens: every 2 s stands for a user browsing.
        await new Promise((r) => setTimeout(r, 2000));
      }
    })(),
  ]);
  const job = cli ? { status: await cli } : jobId ? await services.jobs.wait(jobId) : { status: 'no import' };
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify(
      {
        records: RECORDS,
        load_average: +loadavg()[0]!.toFixed(1),
        cores: availableParallelism(),
        kind: KIND,
        import_in: VIA_CLI ? 'another process (rlhf-lab import)' : 'a job of the serving process',
        import_status: job.status,
        import_wall_s: +seconds.toFixed(1),
        labelers: LABELERS,
        judgments: submits.length,
        failed: failures,
        submit_ms: { p50: +pct(submits, 0.5).toFixed(1), p95: +pct(submits, 0.95).toFixed(1), max: +pct(submits, 1).toFixed(1) },
        during_write_pass: { judgments: submitsWhileWriting.length, p50: +pct(submitsWhileWriting, 0.5).toFixed(1), p95: +pct(submitsWhileWriting, 0.95).toFixed(1), max: +pct(submitsWhileWriting, 1).toFixed(1) },
        stats_ms: { n: stats.length, p95: +pct(stats, 0.95).toFixed(1), max: +pct(stats, 1).toFixed(1) },
      },
      null,
      1,
    ),
  );
  agent.destroy();
  await server.close();
  await services.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
