// `hf:OWNER/NAME[@revision]` against a fake Hub on 127.0.0.1 that speaks the Hub's API (model
// info, file tree with sizes and hashes, /resolve/ redirecting to a file server with range
// requests): the standard cache layout, a second import without a download, offline use, a
// dropped connection resumed by a Range request, a wrong hash discarded, 401 and 404 explained;
// a PEFT LoRA adapter from the Hub (`model import hf:… --adapter hf:…`).
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/engine/backend/backend.js';
import { loadModel } from '../../../src-main/engine/io/checkpoint-io.js';
import { downloadHubModel } from '../../../src-main/engine/io/hf-hub.js';
import { importHfModel, importModelSource } from '../../../src-main/engine/io/hf.js';
import { exportCheckpoint, importSourceWithAdapter } from '../../../src-main/engine/io/adapter-io.js';
import type { CommandIO } from '../../../src-main/cli/command.js';
import { modelCommand } from '../../../src-main/cli/commands/model.js';
import { Project } from '../../../src-main/store/project.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
const COMMIT = 'a'.repeat(39) + '1';
const QWEN_COMMIT = 'b'.repeat(39) + '2';
const LORA_COMMIT = 'c'.repeat(39) + '3';
const TOKEN = 'hf_validtoken';

interface RepoFile {
  path: string;
  bytes: Buffer;
  lfs: boolean;
}
interface Repo {
  commit: string;
  files: RepoFile[];
  gated?: boolean;
}

const filesOf = (dir: string, names: string[], lfs: (n: string) => boolean): RepoFile[] =>
  names.map((n) => ({ path: n, bytes: readFileSync(join(dir, n)), lfs: lfs(n) }));
const isWeights = (n: string) => n.endsWith('.safetensors');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const repos: Record<string, Repo> = {
  'tiny/llama': { commit: COMMIT, files: filesOf(join(fixtures, 'llama-tiny'), ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'], isWeights) },
  // The PEFT adapter scripts/make-lora-fixture.py wrote for llama-tiny.
  'tiny/llama-lora': { commit: LORA_COMMIT, files: filesOf(join(fixtures, 'llama-tiny-lora'), ['adapter_config.json', 'adapter_model.safetensors'], isWeights) },
  'tiny/qwen2': {
    commit: QWEN_COMMIT,
    gated: true,
    files: filesOf(join(fixtures, 'qwen2-tiny'), ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'vocab.json', 'merges.txt'], isWeights),
  },
};

/** What the fake Hub saw and how it misbehaves. */
const hub = {
  requests: [] as Array<{ url: string; range?: string; auth?: string }>,
  /** Drop the connection after this many bytes of a full-file response (once per path). */
  dropAfter: new Map<string, number>(),
  /** Serve these files with one byte flipped. */
  corrupt: new Set<string>(),
};

let server: Server;
let hubUrl: string;

function startHub(): Promise<void> {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    hub.requests.push({ url: url.pathname, range: req.headers.range, auth: req.headers.authorization });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const authorised = (repo: Repo) => !repo.gated || req.headers.authorization === `Bearer ${TOKEN}`;
    let m = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/);
    if (m) {
      const repo = repos[m[1]!];
      if (!repo || !['main', repo.commit].includes(decodeURIComponent(m[2]!))) return json(404, { error: 'Repository not found' });
      if (!authorised(repo)) return json(401, { error: 'Access to model is restricted. You must have access to it and be authenticated to access it.' });
      return json(200, { _id: 'x', id: m[1], sha: repo.commit, private: false, siblings: repo.files.map((f) => ({ rfilename: f.path })) });
    }
    m = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/);
    if (m) {
      const repo = repos[m[1]!]!;
      if (!authorised(repo)) return json(401, { error: 'restricted' });
      return json(
        200,
        repo.files.map((f) => ({ type: 'file', path: f.path, size: f.bytes.length, oid: gitSha1(f.bytes), ...(f.lfs ? { lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: 130 } } : {}) })),
      );
    }
    m = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (m) {
      const repo = repos[m[1]!];
      if (!repo || !authorised(repo)) return json(401, { error: 'restricted' });
      res.writeHead(302, { location: `/cdn/${m[1]}/${m[3]}` });
      return res.end();
    }
    m = url.pathname.match(/^\/cdn\/([^/]+\/[^/]+)\/(.+)$/);
    const file = m ? repos[m[1]!]?.files.find((f) => f.path === m![2]) : undefined;
    if (!file) return json(404, { error: 'Entry not found' });
    let bytes = file.bytes;
    if (hub.corrupt.has(file.path)) {
      bytes = Buffer.from(bytes);
      const i = bytes.length >> 1;
      bytes.writeUInt8(bytes[i]! ^ 0xff, i);
    }
    const etag = `"${file.lfs ? sha256(file.bytes) : gitSha1(file.bytes)}"`;
    const range = req.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Number(range[2]) : bytes.length - 1;
    const body = bytes.subarray(start, end + 1);
    res.writeHead(range ? 206 : 200, {
      etag,
      'accept-ranges': 'bytes',
      'content-length': String(body.length),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${bytes.length}` } : {}),
    });
    const drop = hub.dropAfter.get(file.path);
    if (drop !== undefined && body.length > drop) {
      hub.dropAfter.delete(file.path);
      res.write(body.subarray(0, drop), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      hubUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      resolve();
    }),
  );
}

let dir: string;
let cacheDir: string;
let project: Project;
beforeAll(async () => {
  await initBackend();
  await startHub();
  dir = mkdtempSync(join(tmpdir(), 'hf-hub-'));
  project = Project.open(join(dir, 'p.rlhf'), { create: true });
});
afterAll(() => {
  server.close();
  project.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  cacheDir = mkdtempSync(join(dir, 'cache-'));
  hub.requests.length = 0;
  hub.dropAfter.clear();
  hub.corrupt.clear();
});

const reference = (name: string) => JSON.parse(readFileSync(join(fixtures, name, 'reference-logprobs.json'), 'utf8')) as { sequences: number[][]; logprobs: number[][] };

function logprobsMatch(checkpoint: number, fixture: string): void {
  const ref = reference(fixture);
  const { model } = loadModel(project, checkpoint);
  const got = tf.tidy(() => Array.from(model.tokenLogprobs(tf.tensor2d([ref.sequences[1]!], [1, ref.sequences[1]!.length], 'int32')).dataSync()));
  got.forEach((x, i) => expect(Math.abs(x - ref.logprobs[1]![i]!)).toBeLessThan(1e-4));
  model.dispose();
}

describe('hf:OWNER/NAME from a Hub', () => {
  it('downloads into the standard cache layout (following redirects), with progress, and imports', async () => {
    const progress: Array<{ done: number; total: number }> = [];
    const r = await importModelSource(project, 'hf:tiny/llama', { cacheDir, hubUrl, offline: false, onProgress: (p) => progress.push(p) });
    const root = join(cacheDir, 'models--tiny--llama');
    expect(readFileSync(join(root, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    const weights = join(root, 'snapshots', COMMIT, 'model.safetensors');
    expect(lstatSync(weights).isSymbolicLink()).toBe(true);
    const blobName = sha256(repos['tiny/llama']!.files[1]!.bytes);
    expect(readlinkSync(weights)).toBe(join('..', '..', 'blobs', blobName));
    expect(readdirSync(join(root, 'blobs')).sort()).toEqual(repos['tiny/llama']!.files.map((f) => (f.lfs ? sha256(f.bytes) : gitSha1(f.bytes))).sort());
    const total = repos['tiny/llama']!.files.reduce((a, f) => a + f.bytes.length, 0);
    expect(progress.at(-1)).toMatchObject({ done: total, total });
    expect(hub.requests.some((q) => q.url.startsWith('/cdn/'))).toBe(true);
    expect(project.checkpoints.get(r.checkpoint)).toMatchObject({ name: 'tiny/llama', stage: 'base' });
    expect(project.checkpoints.get(r.checkpoint)!.extra).toMatchObject({ imported_from: `hf:tiny/llama@${COMMIT}` });
    logprobsMatch(r.checkpoint, 'llama-tiny');

    // Again: everything is in the cache, no file is fetched; offline, no request at all.
    hub.requests.length = 0;
    const again = await downloadHubModel('hf:tiny/llama', { cacheDir, hubUrl, offline: false });
    expect(again).toMatchObject({ commit: COMMIT, downloaded: 0, fromCache: true });
    expect(hub.requests.filter((q) => q.url.startsWith('/cdn/'))).toEqual([]);
    hub.requests.length = 0;
    const offline = await downloadHubModel('hf:tiny/llama', { cacheDir, hubUrl, offline: true });
    expect(offline.folder).toBe(join(root, 'snapshots', COMMIT));
    expect(hub.requests).toEqual([]);
    // A revision by commit hash resolves from the cache too.
    expect((await downloadHubModel(`hf:tiny/llama@${COMMIT}`, { cacheDir, hubUrl, offline: true })).commit).toBe(COMMIT);
  });

  it('offline with nothing cached says so', async () => {
    await expect(downloadHubModel('hf:tiny/llama', { cacheDir, hubUrl, offline: true })).rejects.toThrow(/not in the Hugging Face cache .*HF_HUB_OFFLINE=1/);
  });

  it('resumes a dropped connection with a range request and verifies the result', async () => {
    const weights = repos['tiny/llama']!.files[1]!;
    hub.dropAfter.set('model.safetensors', 20_000);
    const snap = await downloadHubModel('hf:tiny/llama', { cacheDir, hubUrl, offline: false });
    const cdn = hub.requests.filter((q) => q.url === '/cdn/tiny/llama/model.safetensors' && q.range !== 'bytes=0-0');
    expect(cdn.map((q) => q.range)).toEqual([undefined, `bytes=20000-${weights.bytes.length - 1}`]);
    expect(sha256(readFileSync(join(snap.folder, 'model.safetensors')))).toBe(sha256(weights.bytes));
  });

  it('discards a download whose sha256 does not match, leaving nothing behind', async () => {
    hub.corrupt.add('model.safetensors');
    await expect(downloadHubModel('hf:tiny/llama', { cacheDir, hubUrl, offline: false })).rejects.toThrow(/model.safetensors failed verification \(sha256 expected [0-9a-f]{64}, got [0-9a-f]{64}\); the download was discarded/);
    const root = join(cacheDir, 'models--tiny--llama');
    expect(readdirSync(join(root, 'blobs')).filter((f) => f.endsWith('.incomplete') || f === sha256(repos['tiny/llama']!.files[1]!.bytes))).toEqual([]);
    expect(existsSync(join(root, 'snapshots', COMMIT, 'model.safetensors'))).toBe(false);
    expect(existsSync(join(root, 'refs', 'main'))).toBe(false);
  });

  it('a gated model: 401 without a token asks for HF_TOKEN; with it, the sharded model imports', async () => {
    await expect(downloadHubModel('hf:tiny/qwen2', { cacheDir, hubUrl, offline: false })).rejects.toThrow(/hf:tiny\/qwen2: the Hub requires a token \(HTTP 401\).*set HF_TOKEN/);
    await expect(downloadHubModel('hf:tiny/qwen2', { cacheDir, hubUrl, offline: false, token: 'hf_wrong' })).rejects.toThrow(/refused the token in HF_TOKEN \(HTTP 401\)/);
    hub.requests.length = 0;
    const r = await importModelSource(project, 'hf:tiny/qwen2', { cacheDir, hubUrl, offline: false, token: TOKEN });
    expect(hub.requests.filter((q) => q.url.startsWith('/api/')).every((q) => q.auth === `Bearer ${TOKEN}`)).toBe(true);
    logprobsMatch(r.checkpoint, 'qwen2-tiny');
  });

  it('404: an unknown model or revision is named', async () => {
    await expect(downloadHubModel('hf:tiny/nothing', { cacheDir, hubUrl, offline: false })).rejects.toThrow(/hf:tiny\/nothing: not found on http:\/\/127\.0\.0\.1:\d+ \(check the model name and revision\)/);
    await expect(downloadHubModel('hf:tiny/llama@v9', { cacheDir, hubUrl, offline: false })).rejects.toThrow(/hf:tiny\/llama@v9: not found/);
    await expect(downloadHubModel('hf:not a repo', { cacheDir, hubUrl })).rejects.toThrow(/expected hf:OWNER\/NAME/);
  });

  it('a LoRA adapter from the Hub on a Hub base: cached, imported, its log-probs PyTorch\'s and the merged export\'s', async () => {
    const r = await importSourceWithAdapter(project, 'hf:tiny/llama', 'hf:tiny/llama-lora', { cacheDir, hubUrl, offline: false });
    const snap = join(cacheDir, 'models--tiny--llama-lora', 'snapshots', LORA_COMMIT);
    expect(readdirSync(snap).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(lstatSync(join(snap, 'adapter_model.safetensors')).isSymbolicLink()).toBe(true);
    expect(r.sources.adapter).toMatchObject({ from: `hf:tiny/llama-lora@${LORA_COMMIT}`, fromCache: false });
    expect(project.checkpoints.get(r.base)).toMatchObject({ name: 'tiny/llama', stage: 'base' });
    expect(project.checkpoints.get(r.base)!.extra).toMatchObject({ imported_from: `hf:tiny/llama@${COMMIT}` });
    expect(project.checkpoints.get(r.adapter)).toMatchObject({ name: 'tiny/llama + tiny/llama-lora', parent_id: r.base });
    expect(project.checkpoints.get(r.adapter)!.extra).toMatchObject({ imported_from: `hf:tiny/llama-lora@${LORA_COMMIT}`, adapter: { r: 4, targets: ['q_proj', 'v_proj', 'down_proj'] } });
    logprobsMatch(r.adapter, 'llama-tiny-lora');
    const ids = reference('llama-tiny-lora').sequences[1]!;
    const logprobs = (id: number) => {
      const { model } = loadModel(project, id);
      const out = tf.tidy(() => Array.from(model.tokenLogprobs(tf.tensor2d([ids], [1, ids.length], 'int32')).dataSync()));
      model.dispose();
      return out;
    };
    const adapted = logprobs(r.adapter);
    const base = logprobs(r.base);
    expect(Math.max(...adapted.map((x, i) => Math.abs(x - base[i]!)))).toBeGreaterThan(1e-3);
    const mergedDir = join(dir, 'merged-hub-adapter');
    exportCheckpoint(project, r.adapter, mergedDir, { merged: true });
    const merged = logprobs(importHfModel(project, mergedDir));
    expect(Math.max(...adapted.map((x, i) => Math.abs(x - merged[i]!)))).toBeLessThan(1e-5);
    // Again: both come from the cache.
    hub.requests.length = 0;
    const again = await importSourceWithAdapter(project, `hf:tiny/llama@${COMMIT}`, `hf:tiny/llama-lora@${LORA_COMMIT}`, { cacheDir, hubUrl, offline: false, name: 'again' });
    expect(again.sources.adapter.fromCache && again.sources.base.fromCache).toBe(true);
    expect(hub.requests).toEqual([]);
  });

  it('an adapter the Hub does not have, or a repo that is no adapter, is named and stores nothing', async () => {
    const before = project.checkpoints.list().length;
    await expect(importSourceWithAdapter(project, 'hf:tiny/llama', 'hf:tiny/no-adapter', { cacheDir, hubUrl, offline: false })).rejects.toThrow(
      /hf:tiny\/no-adapter: not found on http:\/\/127\.0\.0\.1:\d+ \(check the adapter name and revision\)/,
    );
    // The adapter is fetched first: the base was not downloaded for nothing.
    expect(existsSync(join(cacheDir, 'models--tiny--llama'))).toBe(false);
    await expect(importSourceWithAdapter(project, 'hf:tiny/llama', 'hf:tiny/llama', { cacheDir, hubUrl, offline: false })).rejects.toThrow(/hf:tiny\/llama@main: no adapter_config\.json in the repository \(not a PEFT adapter\)/);
    await expect(importSourceWithAdapter(project, join(fixtures, 'llama-tiny'), 'hf:tiny/llama-lora', { cacheDir, hubUrl, offline: true })).rejects.toThrow(/hf:tiny\/llama-lora@main is not in the Hugging Face cache/);
    expect(project.checkpoints.list().length).toBe(before);
  });

  it('rlhf-lab model import hf:… reads HF_ENDPOINT, HF_HOME, HF_TOKEN and HF_HUB_OFFLINE', async () => {
    const saved = { ...process.env };
    const home = mkdtempSync(join(dir, 'home-'));
    Object.assign(process.env, { HF_ENDPOINT: hubUrl, HF_HOME: home, HF_TOKEN: TOKEN, HF_HUB_OFFLINE: '' });
    delete process.env.HF_HUB_CACHE;
    delete process.env.HUGGINGFACE_HUB_CACHE;
    const file = join(dir, 'cli.rlhf');
    Project.open(file, { create: true }).close();
    const cli = async (argv: string[]) => {
      const outputs: unknown[] = [];
      const bars: number[] = [];
      const io: CommandIO = { json: true, out: (v) => void outputs.push(v), progress: (done) => void bars.push(done), err: () => {} };
      expect(await modelCommand.run([...argv, '--json'], io)).toBe(0);
      return { out: outputs[0] as { checkpoint: number; family: string }, bars };
    };
    try {
      const first = await cli(['import', file, 'hf:tiny/qwen2']);
      expect(first.out.family).toBe('qwen2');
      expect(first.bars.length).toBeGreaterThan(0);
      expect(existsSync(join(home, 'hub', 'models--tiny--qwen2', 'refs', 'main'))).toBe(true);
      process.env.HF_HUB_OFFLINE = '1';
      hub.requests.length = 0;
      const second = await cli(['import', file, 'hf:tiny/qwen2', '--name', 'again']);
      expect(second.bars).toEqual([]);
      expect(hub.requests).toEqual([]);
      process.env.HF_HUB_OFFLINE = '';
      const adapted = (await cli(['import', file, 'hf:tiny/llama', '--adapter', 'hf:tiny/llama-lora'])).out as unknown as { checkpoint: number; base: number; adapter: { r: number } };
      expect(adapted.adapter).toMatchObject({ r: 4 });
      expect(existsSync(join(home, 'hub', 'models--tiny--llama-lora', 'refs', 'main'))).toBe(true);
    } finally {
      for (const k of ['HF_ENDPOINT', 'HF_HOME', 'HF_TOKEN', 'HF_HUB_OFFLINE']) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
