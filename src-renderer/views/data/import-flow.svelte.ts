// One import from the browser: read the chosen file, upload its text, follow the import job.
// Kept outside the component so the phases (and their failure modes) stay readable.
import type { ImportResult, JobInfo } from '../../../src-main/shared/contract.js';
import type { Client } from '../../lib/api';
import type { JobsState } from '../../lib/jobs.svelte';
import { decodeUtf8 } from '../../lib/utf8';

export type ImportKind = 'prompts' | 'sft' | 'preferences' | 'rankings';
export type Phase = 'idle' | 'reading' | 'uploading' | 'importing' | 'done' | 'failed';

function isImportResult(v: unknown): v is ImportResult {
  return !!v && typeof v === 'object' && typeof (v as ImportResult).imported === 'number';
}

export class ImportFlow {
  #client: Client;
  #jobs: JobsState;
  phase = $state<Phase>('idle');
  fileName = $state('');
  /** Bytes read while loading the file, then the job's own progress. */
  done = $state(0);
  total = $state(0);
  unit = $state('bytes');
  job = $state<JobInfo | null>(null);
  result = $state<ImportResult | null>(null);
  error = $state<string | null>(null);

  constructor(client: Client, jobs: JobsState) {
    this.#client = client;
    this.#jobs = jobs;
  }

  get busy(): boolean {
    return this.phase === 'reading' || this.phase === 'uploading' || this.phase === 'importing';
  }

  /** Live progress of the running job, taken from the job events. */
  get liveJob(): JobInfo | null {
    return this.job ? (this.#jobs.get(this.job.id) ?? this.job) : null;
  }

  async run(file: File, as: ImportKind, split: 'train' | 'eval' | undefined): Promise<boolean> {
    this.fileName = file.name;
    this.result = null;
    this.error = null;
    this.job = null;
    try {
      this.phase = 'reading';
      const text = await this.#read(file);
      this.phase = 'uploading';
      const started = await this.#client.call('data.importText', { name: file.name, text, as, split });
      this.job = started;
      this.phase = 'importing';
      const finished = await this.#jobs.waitFor(started);
      this.job = finished;
      if (finished.status !== 'completed') {
        throw new Error(finished.error ?? `The import was ${finished.status}.`);
      }
      this.result = isImportResult(finished.result) ? finished.result : null;
      this.phase = 'done';
      return true;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      this.phase = 'failed';
      return false;
    }
  }

  async cancel(): Promise<void> {
    if (this.job) await this.#jobs.cancel(this.job.id);
  }

  #read(file: File): Promise<string> {
    this.done = 0;
    this.total = file.size;
    this.unit = 'bytes';
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onprogress = (e) => (this.done = e.loaded);
      reader.onload = () => {
        // A file in another encoding is refused instead of being imported with � in it.
        try {
          resolve(decodeUtf8(file.name, new Uint8Array(reader.result as ArrayBuffer)));
        } catch (e) {
          reject(e as Error);
        }
      };
      reader.onerror = () => reject(new Error(`${file.name}: the file could not be read (${reader.error?.message ?? 'unknown error'}).`));
      reader.readAsArrayBuffer(file);
    });
  }
}
