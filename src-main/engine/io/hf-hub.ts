// Models — and PEFT LoRA adapters (kind 'adapter': adapter_config.json + adapter_model.safetensors)
// — from the Hugging Face Hub (`hf:OWNER/NAME[@revision]`) into the standard Hugging Face
// cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub):
// models--OWNER--NAME/{refs/<revision>, blobs/<etag>, snapshots/<commit>/<file> → ../../blobs/<etag>},
// so a model downloaded by Python's huggingface_hub is found without a download and one
// downloaded here loads in transformers.
//
// @huggingface/hub does the HTTP: the commit (modelInfo), the file list with sizes and hashes
// (listFiles), the cache paths (getHFHubCachePath, getRepoFolderName) and each file's bytes
// (downloadFile, whose blob reads a byte range). Its downloadFileToCacheDir is not used: it has
// no progress, restarts a broken download from zero and checks no hash; here a file streams into
// blobs/<etag>.incomplete, a broken download resumes from the bytes already there (a Range
// request), and the size and sha256 (LFS files) or git blob sha1 (small files) are verified
// before the blob is renamed into place.
import { downloadFile, getHFHubCachePath, getRepoFolderName, listFiles, modelInfo, type ListFileEntry } from '@huggingface/hub';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

export const HF_PREFIX = 'hf:';

/** The files of a model repo an import reads (weights: safetensors only). */
const WANTED = new Set([
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'chat_template.jinja',
  'model.safetensors',
  'model.safetensors.index.json',
]);

/** The files of a PEFT LoRA adapter repo an import reads (engine/io/peft.ts). */
const WANTED_ADAPTER = new Set(['adapter_config.json', 'adapter_model.safetensors']);

/** What a repo holds: a transformers model, or a PEFT adapter to put on one. */
export type HubRepoKind = 'model' | 'adapter';

/** The file whose presence makes a snapshot folder one of this kind. */
const configFile = (kind: HubRepoKind) => (kind === 'adapter' ? 'adapter_config.json' : 'config.json');

/** Tries per file: a dropped connection resumes from the bytes already on disk. */
const ATTEMPTS = 4;

export interface HubId {
  repo: string;
  revision: string;
}

export interface HubProgress {
  file: string;
  /** Bytes of all files to fetch so far / in all (files already in the cache excluded). */
  done: number;
  total: number;
}

export interface HubDownloadOptions {
  /** The cache root (default: the library's, from HF_HUB_CACHE / HF_HOME). */
  cacheDir?: string;
  /** Default: $HF_ENDPOINT or https://huggingface.co. */
  hubUrl?: string;
  /** Default: $HF_TOKEN. */
  token?: string;
  /** Default: HF_HUB_OFFLINE=1. Only the cache is read. */
  offline?: boolean;
  onProgress?: (p: HubProgress) => void;
  fetch?: typeof fetch;
  /** Default 'model'; 'adapter' fetches adapter_config.json and adapter_model.safetensors. */
  kind?: HubRepoKind;
}

export interface HubSnapshot {
  /** snapshots/<commit>: a folder readHfFolder reads. */
  folder: string;
  commit: string;
  /** Bytes downloaded by this call (0 when everything was in the cache). */
  downloaded: number;
  fromCache: boolean;
}

/** Parses `hf:OWNER/NAME[@revision]`. */
export function parseHubId(source: string): HubId {
  const body = source.startsWith(HF_PREFIX) ? source.slice(HF_PREFIX.length) : source;
  const at = body.indexOf('@');
  const repo = at < 0 ? body : body.slice(0, at);
  const revision = at < 0 ? 'main' : body.slice(at + 1);
  if (!/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(repo) || revision === '' || revision.includes('..')) {
    throw new Error(`${source}: expected hf:OWNER/NAME or hf:OWNER/NAME@REVISION`);
  }
  return { repo, revision };
}

const isCommit = (s: string) => /^[0-9a-f]{40}$/.test(s);

function repoFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, getRepoFolderName({ name: repo, type: 'model' }));
}

/** The cached snapshot of a revision (a commit, or a ref written by an earlier download), or null. */
export function cachedSnapshot(id: HubId, cacheDir: string = getHFHubCachePath(), kind: HubRepoKind = 'model'): { folder: string; commit: string } | null {
  const root = repoFolder(cacheDir, id.repo);
  const refPath = join(root, 'refs', id.revision);
  const commit = isCommit(id.revision) ? id.revision : existsSync(refPath) ? readFileSync(refPath, 'utf8').trim() : null;
  if (!commit) return null;
  const folder = join(root, 'snapshots', commit);
  return existsSync(join(folder, configFile(kind))) ? { folder, commit } : null;
}

/** model.safetensors, or the index and every shard it names (an adapter: adapter_model.safetensors), are in the folder. */
export function weightsComplete(folder: string, kind: HubRepoKind = 'model'): boolean {
  if (kind === 'adapter') return existsSync(join(folder, 'adapter_model.safetensors'));
  if (existsSync(join(folder, 'model.safetensors'))) return true;
  const index = join(folder, 'model.safetensors.index.json');
  if (!existsSync(index)) return false;
  try {
    const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
    return Object.values(map).every((shard) => existsSync(join(folder, shard)));
  } catch {
    return false;
  }
}

/** A clear message for what the Hub or the network answered. */
function hubError(e: unknown, id: HubId, hubUrl: string, token: string | undefined, kind: HubRepoKind): Error {
  const name = `hf:${id.repo}${id.revision === 'main' ? '' : `@${id.revision}`}`;
  const status = (e as { statusCode?: number }).statusCode;
  if (status === 401 || status === 403) {
    return new Error(
      token
        ? `${name}: the Hub refused the token in HF_TOKEN (HTTP ${status}): check it is valid and that its account has accepted the model's terms`
        : `${name}: the Hub requires a token (HTTP ${status}): the model is gated or private — accept its terms on the Hub and set HF_TOKEN`,
    );
  }
  if (status === 404) return new Error(`${name}: not found on ${hubUrl} (check the ${kind} name and revision)`);
  if (status !== undefined) return new Error(`${name}: the Hub answered HTTP ${status}: ${(e as Error).message}`);
  return new Error(`${name}: cannot reach ${hubUrl} (${(e as Error).message}); with HF_HUB_OFFLINE=1 only the local cache is used`);
}

/** sha256 (LFS) or git blob sha1 of a file, streamed. */
async function fileHash(path: string, kind: 'sha256' | 'git-sha1', size: number): Promise<string> {
  const h = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Links snapshots/<commit>/<file> to its blob with a relative symlink, as huggingface_hub does. */
function linkPointer(blob: string, pointer: string): void {
  mkdirSync(dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  symlinkSync(relative(dirname(pointer), blob), pointer);
}

interface FileTask {
  path: string;
  size: number;
  etag: string;
  hash: { kind: 'sha256' | 'git-sha1'; value: string };
}

function taskOf(entry: ListFileEntry): FileTask {
  if (entry.lfs) return { path: entry.path, size: entry.lfs.size, etag: entry.lfs.oid, hash: { kind: 'sha256', value: entry.lfs.oid } };
  if (!entry.oid) throw new Error(`${entry.path}: the Hub's file list gives no hash for it`);
  return { path: entry.path, size: entry.size, etag: entry.oid, hash: { kind: 'git-sha1', value: entry.oid } };
}

/**
 * The model's snapshot folder in the cache, downloading what is missing. Offline (or when the Hub
 * cannot be reached) a snapshot already in the cache is used as is.
 */
export async function downloadHubModel(source: string, opts: HubDownloadOptions = {}): Promise<HubSnapshot> {
  const id = parseHubId(source);
  const cacheDir = opts.cacheDir ?? getHFHubCachePath();
  const hubUrl = (opts.hubUrl ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');
  const token = opts.token ?? (process.env.HF_TOKEN || undefined);
  const offline = opts.offline ?? ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
  const kind = opts.kind ?? 'model';
  const cached = cachedSnapshot(id, cacheDir, kind);
  // A commit never changes: its snapshot, once its weights are all there, needs no Hub (as
  // huggingface_hub's hf_hub_download does for a file pinned to a commit).
  if (cached && isCommit(id.revision) && weightsComplete(cached.folder, kind)) return { ...cached, downloaded: 0, fromCache: true };
  if (offline) {
    if (!cached) throw new Error(`hf:${id.repo}@${id.revision} is not in the Hugging Face cache at ${cacheDir} (HF_HUB_OFFLINE=1: nothing is downloaded)`);
    return { ...cached, downloaded: 0, fromCache: true };
  }
  const common = { hubUrl, ...(token ? { accessToken: token } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}) };
  let commit: string;
  let entries: ListFileEntry[];
  try {
    const info = await modelInfo({ ...common, name: id.repo, revision: id.revision, additionalFields: ['sha'] });
    commit = String((info as { sha?: string }).sha ?? '');
    if (!isCommit(commit)) throw new Error(`the Hub gave no commit for revision ${id.revision}`);
    entries = [];
    for await (const e of listFiles({ ...common, repo: { type: 'model', name: id.repo }, revision: commit, recursive: true, expand: true })) if (e.type === 'file') entries.push(e);
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    // Unreachable Hub, cached snapshot: use it, as transformers does.
    if (status === undefined && cached) return { ...cached, downloaded: 0, fromCache: true };
    throw hubError(e, id, hubUrl, token, kind);
  }
  const root = repoFolder(cacheDir, id.repo);
  const snapshot = join(root, 'snapshots', commit);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  if (kind === 'adapter') {
    if (!byPath.has('adapter_config.json')) throw new Error(`hf:${id.repo}@${id.revision}: no adapter_config.json in the repository (not a PEFT adapter)`);
    if (!byPath.has('adapter_model.safetensors')) throw new Error(`hf:${id.repo}@${id.revision}: no adapter_model.safetensors in the repository (adapter_model.bin, a pickle, is not read)`);
  } else if (!byPath.has('config.json')) throw new Error(`hf:${id.repo}@${id.revision}: no config.json in the repository (not a transformers model)`);
  if (kind === 'model' && !byPath.has('model.safetensors') && !byPath.has('model.safetensors.index.json')) {
    throw new Error(`hf:${id.repo}@${id.revision}: no model.safetensors or model.safetensors.index.json (only safetensors weights are read)`);
  }
  const fetchOne = async (task: FileTask, progress: (n: number) => void) => fetchFile(id, commit, task, root, common, progress);

  let downloaded = 0;
  let done = 0;
  const wanted = kind === 'adapter' ? WANTED_ADAPTER : WANTED;
  const first = [...byPath.values()].filter((e) => wanted.has(e.path)).map(taskOf);
  const missing = (t: FileTask) => !existsSync(join(snapshot, t.path));
  // The index names the shards; it is fetched first so the total is known before the big files.
  const index = first.find((t) => t.path === 'model.safetensors.index.json');
  if (index && missing(index)) downloaded += await fetchOne(index, () => {});
  let shards: FileTask[] = [];
  if (index && !byPath.has('model.safetensors')) {
    const map = (JSON.parse(readFileSync(join(snapshot, index.path), 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
    shards = [...new Set(Object.values(map))].map((p) => {
      const e = byPath.get(p);
      if (!e) throw new Error(`hf:${id.repo}@${id.revision}: the index lists ${p}, which the repository does not have`);
      return taskOf(e);
    });
  }
  const todo = [...first.filter((t) => t !== index), ...shards].filter(missing);
  const total = todo.reduce((a, t) => a + t.size, 0);
  for (const task of todo) {
    downloaded += await fetchOne(task, (n) => {
      done += n;
      opts.onProgress?.({ file: task.path, done, total });
    });
  }
  // The ref is written last: a reader that follows refs/<revision> finds a complete snapshot.
  if (id.revision !== commit) {
    mkdirSync(join(root, 'refs', dirname(id.revision)), { recursive: true });
    writeFileSync(join(root, 'refs', id.revision), commit);
  }
  return { folder: snapshot, commit, downloaded, fromCache: todo.length === 0 };
}

/** One file into blobs/<etag> (resuming, verified) and its snapshot pointer; returns bytes fetched. */
async function fetchFile(
  id: HubId,
  commit: string,
  task: FileTask,
  root: string,
  common: { hubUrl: string; accessToken?: string; fetch?: typeof fetch },
  progress: (bytes: number) => void,
): Promise<number> {
  const blob = join(root, 'blobs', task.etag);
  const pointer = join(root, 'snapshots', commit, task.path);
  // Another snapshot (or Python) already has these bytes.
  if (existsSync(blob) && sizeOf(blob) === task.size) {
    linkPointer(blob, pointer);
    return 0;
  }
  mkdirSync(dirname(blob), { recursive: true });
  const incomplete = `${blob}.incomplete`;
  let fetched = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS && sizeOf(incomplete) < task.size; attempt++) {
    const start = sizeOf(incomplete);
    if (start > 0) progress(attempt === 0 ? start : 0);
    try {
      const remote = await downloadFile({ ...common, repo: { type: 'model', name: id.repo }, path: task.path, revision: commit, xet: false });
      if (!remote) throw new Error(`hf:${id.repo}: ${task.path} is listed but cannot be downloaded`);
      if (remote.size !== task.size) throw new Error(`hf:${id.repo}: ${task.path} is ${remote.size} bytes on the Hub, the file list says ${task.size}`);
      const out = await open(incomplete, 'a');
      try {
        for await (const chunk of remote.slice(start).stream() as unknown as AsyncIterable<Uint8Array>) {
          await out.write(chunk);
          fetched += chunk.length;
          progress(chunk.length);
        }
      } finally {
        await out.close();
      }
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status !== undefined) throw hubError(e, id, common.hubUrl, common.accessToken, task.path.startsWith('adapter_') ? 'adapter' : 'model');
      lastError = e;
    }
  }
  const got = sizeOf(incomplete);
  if (got < task.size) {
    throw new Error(`hf:${id.repo}: ${task.path} broke off at ${got} of ${task.size} bytes after ${ATTEMPTS} tries (${lastError instanceof Error ? lastError.message : String(lastError ?? 'no data')}); run the import again to resume`);
  }
  const actual = got === task.size ? await fileHash(incomplete, task.hash.kind, task.size) : `${got} bytes`;
  if (got !== task.size || actual !== task.hash.value) {
    rmSync(incomplete, { force: true });
    throw new Error(
      `hf:${id.repo}: ${task.path} failed verification (${task.hash.kind === 'sha256' ? 'sha256' : 'git blob sha1'} expected ${task.hash.value}, got ${actual}); the download was discarded`,
    );
  }
  renameSync(incomplete, blob);
  linkPointer(blob, pointer);
  return fetched;
}
