// Fuzzing the API's boundary: for every method in the contract, inputs of the wrong type, with
// unknown fields, prototype-pollution keys, huge strings, non-objects, plus raw bodies that are
// not JSON, not UTF-8, absurdly nested or too large. Every one must get a clear refusal (a
// Result with a message, or 400/413), change nothing in the project, and leave the server up.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiContext } from '../../../src-main/api/context.js';
import { methods, type MethodName } from '../../../src-main/shared/contract.js';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { dispatch } from '../../../src-main/api/router.js';
import { Services } from '../../../src-main/api/services.js';
import { startServer, type RunningServer } from '../../../src-main/server.js';

let dir: string;
let services: Services;
let server: RunningServer;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(method: string, body: string | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path: `/api/${method}`, method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const HUGE = 'x'.repeat(300_000);
const CANDIDATES: unknown[] = [null, true, 1.5, -1e308, 2 ** 53, '', 'text', HUGE, [1, 'a'], [[[[[]]]]], { $gt: '' }];

/** Values the field rejects, so an input carrying one is certainly invalid. */
function invalidValuesFor(field: z.ZodType): unknown[] {
  return CANDIDATES.filter((v) => !field.safeParse(v).success);
}

function invalidInputs(name: MethodName): unknown[] {
  const schema = methods[name].input;
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  const inputs: unknown[] = [null, 42, 'a string', [], [{}], true];
  for (const [key, field] of Object.entries(shape)) {
    for (const v of invalidValuesFor(field)) inputs.push({ [key]: v });
  }
  inputs.push({ unexpected: 1 }, JSON.parse('{"__proto__": {"polluted": true}}'), { constructor: { prototype: { polluted: true } } });
  // Whatever the method, none of these may pass validation (the router reads null as {}).
  return inputs.filter((i) => !schema.safeParse(i ?? {}).success);
}

function changes(): number {
  return (services.project().db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-fuzz-'));
  services = new Services({ dataDir: join(dir, 'home') });
  const p = services.openProject(join(dir, 'fuzz.rlhf'), { create: true });
  const { id } = p.prompts.upsert('What is RLHF?');
  p.responses.upsert({ promptId: id, text: 'Reinforcement learning from human feedback.', source: 'import' });
  p.annotators.ensure('alice');
  server = await startServer({ services });
});
afterAll(async () => {
  agent.destroy();
  await server.close();
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('API fuzz', () => {
  it('refuses every malformed input clearly, changes nothing, and stays up', async () => {
    const names = Object.keys(methods) as MethodName[];
    let cases = 0;
    const before = changes();
    for (const name of names) {
      for (const input of invalidInputs(name)) {
        const { status, text } = await send(name, JSON.stringify(input));
        const res = JSON.parse(text);
        expect(status, `${name} ${text.slice(0, 200)}`).toBe(200);
        expect(res.ok, name).toBe(false);
        expect(res.error.code, name).toBe('invalid_input');
        expect(res.error.message, name).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
        expect(res.error.message.length, name).toBeLessThan(5000);
        // The same input through the dispatcher both transports share (IPC calls it directly).
        const direct = await dispatch(handlers, name, input, { app: services, annotatorId: null } satisfies ApiContext);
        expect(direct.ok).toBe(false);
        cases += 2;
      }
    }
    const raw: [string, string | Buffer, number][] = [
      ['{not json', '{not json', 400],
      ['truncated', '{"path": "/tmp/x', 400],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 200],
      ['deeply nested', '['.repeat(200_000) + ']'.repeat(200_000), 200],
      ['nested within the limit', '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000), 200],
      ['too large', JSON.stringify({ path: 'y'.repeat(2 * 1024 * 1024) }), 413],
      ['NUL bytes', '{"path": "\\u0000/etc/passwd"}', 200],
    ];
    for (const name of ['project.open', 'data.prompts', 'label.submit', 'invites.create']) {
      for (const [what, body, expected] of raw) {
        const { status, text } = await send(name, body);
        expect(status, `${name} ${what}`).toBe(expected);
        const res = JSON.parse(text);
        expect(res.ok, `${name} ${what}`).toBe(false);
        expect(res.error.message, `${name} ${what}`).toBeTruthy();
        cases++;
      }
    }
    expect(changes()).toBe(before);
    expect(services.project().db.pragma('integrity_check', { simple: true })).toBe('ok');
    const alive = JSON.parse((await send('project.current', '{}')).text);
    expect(alive).toMatchObject({ ok: true, value: { name: 'fuzz' } });
    console.log(`API fuzz: ${cases} cases over ${names.length} methods`);
    expect(cases).toBeGreaterThan(500);
  });
});
