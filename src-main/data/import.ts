// Imports one data file into a project in two passes. The first reads and validates every
// record and writes nothing, so a bad record (named by file, line and field) leaves the project
// exactly as it was. The second writes the records in short transactions (about BATCH_MS each,
// with a pause between them), so an import of any size never holds the project's write lock for
// long: a judgment submitted meanwhile is stored within a batch, and the app stays responsive.
// Duplicates (already in the project, or repeated in the file) are skipped and counted, which
// also makes an import that stopped during the write pass (cancelled, or the process killed)
// complete when the same file is imported again.
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ImportResult, JobProgress } from '../shared/contract.js';
import { JobCancelled } from '../shared/errors.js';
import { IMPORT_ANNOTATOR } from '../store/annotators.js';
import { hashParts } from '../store/hash.js';
import type { Project } from '../store/project.js';
import { yieldToWaitingWriters } from '../store/write-priority.js';
import { DataError } from './errors.js';
import { readRecords, type RawRecord } from './readers.js';
import { toPreference, toPrompt, toRanking, toSft, type Split } from './records.js';
import { sourceSize, type Source } from './text-source.js';

export type ImportKind = 'prompts' | 'sft' | 'preferences' | 'rankings';

export interface ImportOptions {
  /** Split for new prompts and SFT examples that do not name one (default train). */
  split?: Split;
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
}

/** Records between event-loop turns while validating, so a cancel request gets through. */
const YIELD_EVERY = 2000;
const PROGRESS_MS = 200;
/** How long one write transaction may hold the write lock. */
const BATCH_MS = 20;
/** The pause between two write transactions, in which other connections take the lock. */
const BATCH_GAP_MS = 4;

const validators: Record<ImportKind, (file: string, rec: RawRecord) => unknown> = {
  prompts: toPrompt,
  sft: toSft,
  preferences: toPreference,
  rankings: toRanking,
};

export async function importData(project: Project, source: Source, kind: ImportKind, opts: ImportOptions = {}): Promise<ImportResult> {
  const total = await sourceSize(source);
  let records = 0;
  const started = Date.now();
  let lastProgress = started;
  // Progress runs over both passes: validating is the first half of the bytes, writing the second.
  const report = (done: number, message: string) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 && done > 0 ? done / seconds : undefined;
    opts.onProgress?.({ done, total: 2 * total, unit: 'bytes', message, rate, etaSeconds: rate ? (2 * total - done) / rate : undefined });
  };
  const progress = (done: number, message: string) => {
    const now = Date.now();
    if (now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    report(done, message);
  };

  const validate = validators[kind];
  for await (const rec of readRecords(source)) {
    if (opts.signal?.aborted) throw new JobCancelled();
    validate(source.name, rec);
    records++;
    if (records % YIELD_EVERY === 0) await yieldToEventLoop();
    if (rec.bytes && rec.bytes < total) progress(rec.bytes, `checked ${records} records`);
  }
  if (opts.signal?.aborted) throw new JobCancelled();
  if (records === 0) throw new DataError(source.name, null, 'the file holds no records');

  const insert = inserter(project, source.name, kind, opts.split);
  const db = project.db;
  let imported = 0;
  let skipped = 0;
  let written = 0;
  // Manual BEGIN/COMMIT, not db.transaction(): a batch ends on time, not on a record count.
  db.exec('BEGIN IMMEDIATE');
  let batchStart = performance.now();
  try {
    for await (const rec of readRecords(source)) {
      if (insert(rec)) imported++;
      else skipped++;
      written++;
      if (performance.now() - batchStart < BATCH_MS) continue;
      db.exec('COMMIT');
      if (opts.signal?.aborted) throw new JobCancelled();
      if (rec.bytes && rec.bytes < total) progress(total + rec.bytes, `wrote ${written} of ${records} records`);
      await sleep(BATCH_GAP_MS);
      await yieldToWaitingWriters();
      db.exec('BEGIN IMMEDIATE');
      batchStart = performance.now();
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    if (e instanceof JobCancelled && written > 0) {
      throw new ImportStopped(source.name, written, records);
    }
    throw e;
  }
  report(2 * total, `${records} records`);
  return { imported, skipped };
}

/** A cancel during the write pass: the batches already committed stay (every record whole). */
export class ImportStopped extends JobCancelled {
  constructor(file: string, written: number, records: number) {
    super();
    this.message = `${file}: stopped after writing ${written} of ${records} records; import the file again to add the rest (duplicates are skipped)`;
  }
}

/** Validates and writes one record; true when it was new, false for a duplicate. */
function inserter(project: Project, file: string, kind: ImportKind, defaultSplit: Split | undefined): (rec: RawRecord) => boolean {
  const { prompts, responses, sft, annotators, preferences } = project;
  let importAnnotator: number | null = null;
  const annotator = (name?: string) => {
    if (name !== undefined) return annotators.ensure(name);
    importAnnotator ??= annotators.ensure(IMPORT_ANNOTATOR);
    return importAnnotator;
  };
  const response = (promptId: number, text: string) => responses.upsert({ promptId, text, source: 'import' }).id;

  switch (kind) {
    case 'prompts':
      return (rec) => {
        const r = toPrompt(file, rec);
        return prompts.upsert(r.prompt, { split: r.split ?? defaultSplit, source: 'import' }).created;
      };
    case 'sft':
      return (rec) => {
        const r = toSft(file, rec);
        return sft.insert(r.record, r.split ?? defaultSplit);
      };
    case 'preferences':
      return (rec) => {
        const r = toPreference(file, rec);
        const meta = r.promptMessages ? { messages: r.promptMessages } : undefined;
        const promptId = prompts.upsert(r.prompt, { split: r.split ?? defaultSplit, source: 'import', meta }).id;
        const chosen = response(promptId, r.chosen);
        const rejected = response(promptId, r.rejected);
        return preferences.insertRanking({
          uid: `import:${hashParts('preference', r.prompt, r.chosen, r.rejected)}`,
          promptId,
          annotatorId: annotator(),
          ranking: [[chosen], [rejected]],
          source: 'import',
        });
      };
    case 'rankings':
      return (rec) => {
        const r = toRanking(file, rec);
        const promptId = prompts.upsert(r.prompt, { split: r.split ?? defaultSplit, source: 'import' }).id;
        const ids = r.responses.map((t) => response(promptId, t));
        const ranking = r.groups.map((g) => g.map((i) => ids[i]!));
        return preferences.insertRanking({
          uid: `import:${hashParts('ranking', r.prompt, JSON.stringify(r.responses), JSON.stringify(r.groups), r.annotator ?? IMPORT_ANNOTATOR)}`,
          promptId,
          annotatorId: annotator(r.annotator),
          ranking,
          flags: r.flags,
          comment: r.comment,
          seconds: r.seconds,
          source: 'import',
        });
      };
  }
}
