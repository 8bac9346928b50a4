// A large import must not freeze the server (issue 19): it used to hold the project's write lock
// from its first record to its last, and the server's connection waited for it synchronously, so
// a judgment submitted during a 600k-record import hung (up to 60 s, then "database is locked")
// and every other request with it. Now the import writes in short transactions and the server
// retries a busy write without blocking: teammates' judgments are stored while the import is
// still running. The latencies are printed (bench/import-while-labeling.ts measures them at
// length); this test asserts the behaviour only.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo, LabelItemView, Result } from '../../../src-main/shared/contract.js';
import { Services } from '../../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../../src-main/server.js';
import { tempDir } from '../store/temp-project.js';

const RECORDS = 600_000;
let services: Services;
let server: RunningServer;
let file: string;
let taskId: number;
const tokens: string[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function post<T>(method: string, input: unknown, token?: string): Promise<{ ms: number; res: Result<T> }> {
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
}

function value<T>(r: { res: Result<T> }): T {
  if (!r.res.ok) throw new Error(`${r.res.error.code}: ${r.res.error.message}`);
  return r.res.value;
}

const importJob = (): JobInfo | undefined => services.jobs.list().find((j) => j.kind === 'import');

beforeAll(async () => {
  const dir = tempDir();
  file = join(dir, 'prompts-600k.jsonl');
  const out = createWriteStream(file);
  for (let i = 0; i < RECORDS; i++) if (!out.write(`{"prompt":"Imported question number ${i}: what would you do?"}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  services = new Services({ dataDir: join(dir, 'home') });
  const p = services.openProject(join(dir, 'p.rlhf'), { create: true });
  for (let i = 0; i < 40; i++) {
    const { id } = p.prompts.upsert(`Customer ${i}: my parcel is late, what now?`);
    for (let j = 0; j < 2; j++) p.responses.upsert({ promptId: id, text: `Answer ${j} for customer ${i}`, source: 'import' });
  }
  server = await startServer({ services, lan: true, host: '127.0.0.1' });
  taskId = value(await post<{ task: { id: number } }>('label.createTask', { name: 'during import', mode: 'ranking', k: 2, minAnnotators: 3, seed: 1 })).task.id;
  for (let a = 0; a < 3; a++) tokens.push(p.invites.create(p.annotators.ensure(`teammate-${a}`))!.token);
}, 120_000);
afterAll(async () => {
  agent.destroy();
  await server.close();
  await services.close();
});

describe('labeling during a 600k-record import', () => {
  it('stores teammates\' judgments while the import is still writing', async () => {
    value(await post('data.import', { file, as: 'prompts' }));
    // Wait until the import has written records that readers can see (the first pass only
    // validates). An import that held the lock to the end showed nothing before it finished.
    const prompts = () => (services.project().db.prepare('SELECT count(*) AS n FROM prompts').get() as { n: number }).n;
    for (let i = 0; i < 4800 && prompts() <= 40; i++) await new Promise((r) => setTimeout(r, 50));
    expect(importJob()?.status).toBe('running');

    const latencies: number[] = [];
    let stored = 0;
    // Three teammates each judge four items, all at once, while the import writes.
    await Promise.all(
      tokens.map(async (token) => {
        for (let k = 0; k < 4; k++) {
          const next = value(await post<LabelItemView | null>('label.next', { taskId }, token))!;
          const ids = next.responses.map((r) => r.id);
          const sent = await post('label.submit', { itemId: next.item.id, ranking: [[ids[0]], [ids[1]]], flags: [], comment: '', seconds_spent: 3 }, token);
          value(sent);
          latencies.push(sent.ms);
          stored++;
        }
      }),
    );
    const stats = await post<{ prompts: number }>('project.stats', {});
    // The import has not finished: the judgments did not wait for it.
    expect(importJob()?.status).toBe('running');
    expect(stored).toBe(12);
    const rows = services.project().db.prepare("SELECT count(*) AS n FROM rankings WHERE status = 'submitted'").get() as { n: number };
    expect(rows.n).toBe(12);
    expect(value(stats).prompts).toBeGreaterThan(40); // some batches are in, visible to readers
    latencies.sort((a, b) => a - b);
    console.log(
      `12 judgments during a ${RECORDS}-record import: median ${latencies[6]!.toFixed(0)} ms, max ${latencies[11]!.toFixed(0)} ms; project.stats ${stats.ms.toFixed(0)} ms`,
    );
    services.jobs.cancel(importJob()!.id);
    expect((await services.jobs.wait(importJob()!.id)).status).toBe('cancelled');
  }, 240_000);
});
