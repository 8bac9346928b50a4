// The models already in the local Hugging Face cache (hf-hub.ts says where it is and how it is
// laid out), listed so the Models view can import one without a download: every snapshot of every
// `models--OWNER--NAME` with its refs, size on disk, model_type (and whether it is importable) and
// the dtype of its weights. @huggingface/hub's scanCacheDir walks the folders.
import { getHFHubCachePath, scanCacheDir } from '@huggingface/hub';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dtypeLabel, modelTypeOf, SUPPORTED_MODEL_TYPES } from './hf.js';
import { weightsComplete } from './hf-hub.js';

export interface CachedModel {
  /** OWNER/NAME. */
  repo: string;
  commit: string;
  /** Refs (branches, tags) pointing at this snapshot, e.g. ["main"]. */
  refs: string[];
  /** What `model import` takes for it: hf:OWNER/NAME@<commit>. */
  source: string;
  folder: string;
  model_type: string | null;
  /** Null when importable; else why not (unsupported model_type, missing weights…). */
  problem: string | null;
  /** Bytes of the snapshot's files (the blobs they link to). */
  bytes: number;
  /** Weights' dtype as stored ("BF16", "F16+F32"), null when unknown. */
  dtype: string | null;
  modified_at: number;
}

export interface CacheListing {
  cache_dir: string;
  models: CachedModel[];
  /** Folders the scan could not read, with why (a broken ref, a file where a folder belongs). */
  skipped: string[];
}

/** Dtype counts from a safetensors header, without reading the tensors. */
function headerDtypes(path: string): Record<string, number> {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    if (n <= 0 || n > 100_000_000 || 8 + n > statSync(path).size) return {};
    const header = Buffer.alloc(n);
    readSync(fd, header, 0, n, 8);
    const counts: Record<string, number> = {};
    for (const [name, entry] of Object.entries(JSON.parse(header.toString('utf8')) as Record<string, { dtype?: string }>)) {
      if (name !== '__metadata__' && entry.dtype) counts[entry.dtype] = (counts[entry.dtype] ?? 0) + 1;
    }
    return counts;
  } finally {
    closeSync(fd);
  }
}

function weightFiles(folder: string): string[] {
  const single = join(folder, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = JSON.parse(readFileSync(join(folder, 'model.safetensors.index.json'), 'utf8')) as { weight_map?: Record<string, string> };
  return [...new Set(Object.values(index.weight_map ?? {}))].map((s) => join(folder, s));
}

/** What stops a snapshot from being imported, or null. */
function inspect(folder: string): { model_type: string | null; problem: string | null; dtype: string | null } {
  const cfg = join(folder, 'config.json');
  if (!existsSync(cfg)) return { model_type: null, problem: 'no config.json (not a transformers model)', dtype: null };
  let modelType: string | undefined;
  try {
    modelType = modelTypeOf(JSON.parse(readFileSync(cfg, 'utf8')) as Record<string, unknown>);
  } catch {
    return { model_type: null, problem: 'config.json is not JSON', dtype: null };
  }
  const model_type = modelType ?? null;
  if (!weightsComplete(folder)) return { model_type, problem: 'no safetensors weights (or shards missing)', dtype: null };
  let dtype: string | null = null;
  try {
    const counts: Record<string, number> = {};
    for (const f of weightFiles(folder)) for (const [d, n] of Object.entries(headerDtypes(f))) counts[d] = (counts[d] ?? 0) + n;
    dtype = dtypeLabel(counts) || null;
  } catch {
    dtype = null;
  }
  if (modelType === undefined || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    return { model_type, problem: `model_type ${modelType ? `"${modelType}"` : '(none)'} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`, dtype };
  }
  return { model_type, problem: null, dtype };
}

/** Every model snapshot in the cache (by repo, its newest snapshot first); no cache is an empty list. */
export async function listCachedModels(cacheDir: string = getHFHubCachePath()): Promise<CacheListing> {
  if (!existsSync(cacheDir) || !statSync(cacheDir).isDirectory()) return { cache_dir: cacheDir, models: [], skipped: [] };
  const scan = await scanCacheDir(cacheDir);
  const models: CachedModel[] = [];
  for (const repo of scan.repos) {
    if (repo.id.type !== 'model') continue;
    for (const rev of repo.revisions) {
      models.push({
        repo: repo.id.name,
        commit: rev.commitOid,
        refs: [...rev.refs].sort(),
        source: `hf:${repo.id.name}@${rev.commitOid}`,
        folder: rev.path,
        ...inspect(rev.path),
        bytes: rev.size,
        modified_at: rev.lastModifiedAt.getTime(),
      });
    }
  }
  models.sort((a, b) => a.repo.localeCompare(b.repo) || b.modified_at - a.modified_at);
  return { cache_dir: cacheDir, models, skipped: scan.warnings.map((w) => (w instanceof Error ? w.message : String(w))) };
}
