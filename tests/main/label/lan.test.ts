// LAN labeling: `serve --lan` with three invited annotators submitting concurrently over HTTP. Every judgment is stored exactly once (one row per item and
// annotator, none lost), retried requests change nothing, and requests without a valid invite
// are refused. Prints judgments/s and the p95 latency of a submission.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelItemView, Result } from '../../../src-main/shared/contract.js';
import { Services } from '../../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../../src-main/server.js';

const ITEMS = 100;
const ANNOTATORS = 3;

let dir: string;
let services: Services;
let server: RunningServer;
let taskId: number;
const tokens: string[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 32 });

/** A call as a teammate's browser on another machine makes it: a LAN Host and the invite token. */
function post<T>(method: string, input: unknown, auth?: string | null): Promise<{ status: number; ms: number; res: Result<T> }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', host: `192.0.2.10:${server.port}` };
    if (auth) headers.authorization = `Bearer ${auth}`;
    const req = request({ host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, res: JSON.parse(Buffer.concat(chunks).toString()) as Result<T> }),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(input));
  });
}

function value<T>(r: { res: Result<T> }): T {
  if (!r.res.ok) throw new Error(`${r.res.error.code}: ${r.res.error.message}`);
  return r.res.value;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-lan-'));
  services = new Services({ dataDir: join(dir, 'home') });
  const p = services.openProject(join(dir, 'lan.rlhf'), { create: true });
  p.db.transaction(() => {
    for (let i = 0; i < ITEMS; i++) {
      const { id } = p.prompts.upsert(`Customer ${i}: my parcel is late, what now?`);
      for (let j = 0; j < 4; j++) p.responses.upsert({ promptId: id, text: `Answer ${j} for customer ${i}`, source: 'import' });
    }
  })();
  server = await startServer({ services, lan: true, host: '127.0.0.1' });
  // The host (loopback, no token) creates the task and the invites.
  const created = await new Promise<Result<{ task: { id: number } }>>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: '/api/label.createTask', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Result<{ task: { id: number } }>));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ name: 'LAN batch', mode: 'ranking', k: 4, minAnnotators: ANNOTATORS, seed: 5 }));
  });
  if (!created.ok) throw new Error(created.error.message);
  taskId = created.value.task.id;
  for (let a = 0; a < ANNOTATORS; a++) tokens.push(p.invites.create(p.annotators.ensure(`teammate-${a}`))!.token);
});
afterAll(async () => {
  agent.destroy();
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('LAN labeling with invites', () => {
  it('stores all 300 concurrent judgments exactly once', async () => {
    const latencies: number[] = [];
    let requests = 0;
    // One client per annotator, all three at once: ask for the next item, submit it. Every fifth
    // submission is sent twice at the same moment, as a double-click or a retry after a lost answer
    // would: the race that must not duplicate.
    async function client(token: string): Promise<void> {
      for (;;) {
        const next = value(await post<LabelItemView | null>('label.next', { taskId }, token));
        if (!next) return;
        const ids = next.responses.map((r) => r.id);
        const input = {
          itemId: next.item.id,
          ranking: [[ids[1]], [ids[0], ids[2]], [ids[3]]],
          flags: next.item.position % 10 === 0 ? ['unsafe'] : [],
          comment: '',
          seconds_spent: 7,
        };
        const copies = next.item.position % 5 === 0 ? 2 : 1;
        const answers = await Promise.all(Array.from({ length: copies }, () => post('label.submit', input, token)));
        for (const r of answers) {
          value(r);
          latencies.push(r.ms);
          requests++;
        }
      }
    }
    const t0 = performance.now();
    await Promise.all(tokens.map((t) => client(t)));
    const seconds = (performance.now() - t0) / 1000;

    const db = services.project().db;
    const rows = db.prepare("SELECT count(*) AS n FROM rankings WHERE status = 'submitted'").get() as { n: number };
    const dupes = db.prepare('SELECT count(*) AS n FROM (SELECT item_id, annotator_id FROM rankings GROUP BY 1, 2 HAVING count(*) > 1)').get() as { n: number };
    const uids = db.prepare('SELECT count(DISTINCT uid) AS n FROM rankings').get() as { n: number };
    expect(rows.n).toBe(ITEMS * ANNOTATORS);
    expect(dupes.n).toBe(0);
    expect(uids.n).toBe(ITEMS * ANNOTATORS);

    const progress = value(await post<{ overall: { done: number; submissions: number } }>('label.progress', { taskId }, tokens[0]));
    expect(progress.overall).toMatchObject({ done: ITEMS, submissions: ITEMS * ANNOTATORS });

    const sorted = [...latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(0.95 * (sorted.length - 1))]!;
    console.log(
      `LAN labeling: ${ITEMS * ANNOTATORS} judgments by ${ANNOTATORS} concurrent annotators in ${seconds.toFixed(2)} s ` +
        `= ${((ITEMS * ANNOTATORS) / seconds).toFixed(0)} judgments/s (with the label.next calls); ${requests} submit calls, ` +
        `p50 ${sorted[Math.floor(0.5 * (sorted.length - 1))]!.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`,
    );
  });

  it('refuses requests without a valid invite, and an invited annotator cannot act as another', async () => {
    expect((await post('label.tasks', {}, null)).status).toBe(401);
    expect((await post('label.tasks', {}, 'not-a-real-token')).status).toBe(401);
    const project = services.project();
    const revoked = project.invites.create(project.annotators.ensure('gone'))!;
    expect((await post('label.tasks', {}, revoked.token)).status).toBe(200);
    project.invites.revoke(revoked.id);
    expect((await post('label.tasks', {}, revoked.token)).status).toBe(401);

    const other = project.annotators.byName('teammate-1')!.id;
    const asOther = await post('label.next', { taskId, annotatorId: other }, tokens[0]);
    expect(asOther.res).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const manage = await post('label.createTask', { name: 'mine', mode: 'ranking' }, tokens[0]);
    expect(manage.res).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
