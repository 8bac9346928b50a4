// A Hugging Face cache laid out the way huggingface_hub writes it, filled from a model folder:
// models--OWNER--NAME/blobs/<sha256 or git blob sha1>, snapshots/<commit>/<file> as relative
// symlinks to the blobs, refs/<ref> holding the commit (no trailing newline, as Python writes it).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface FakeSnapshot {
  /** OWNER/NAME. */
  repo: string;
  /** The folder whose files make the snapshot. */
  from: string;
  commit: string;
  refs?: string[];
  /** Replaces config.json's contents (e.g. another model_type). */
  config?: Record<string, unknown>;
  /** Files of `from` to leave out (e.g. the weights). */
  omit?: string[];
}

/** Writes the snapshot into `cacheDir` (the hub/ folder); returns the snapshot folder. */
export function addToFakeHfCache(cacheDir: string, s: FakeSnapshot): string {
  const root = join(cacheDir, `models--${s.repo.replace('/', '--')}`);
  const snapshot = join(root, 'snapshots', s.commit);
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(root, 'blobs'), { recursive: true });
  for (const name of readdirSync(s.from)) {
    if (s.omit?.includes(name) || name === 'reference-logprobs.json') continue;
    const bytes = name === 'config.json' && s.config ? Buffer.from(JSON.stringify(s.config)) : readFileSync(join(s.from, name));
    const hash = name.endsWith('.safetensors')
      ? createHash('sha256').update(bytes).digest('hex')
      : createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    const blob = join(root, 'blobs', hash);
    if (name === 'config.json' && s.config) writeFileSync(blob, bytes);
    else copyFileSync(join(s.from, name), blob);
    const pointer = join(snapshot, name);
    symlinkSync(relative(dirname(pointer), blob), pointer);
  }
  mkdirSync(join(root, 'refs'), { recursive: true });
  for (const ref of s.refs ?? []) writeFileSync(join(root, 'refs', ref), s.commit);
  return snapshot;
}
