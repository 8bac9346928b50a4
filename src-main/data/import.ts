// Imports one data file into a project as one transaction: every record is validated and
// written as it streams past, and any bad record rolls the whole import back, so a failed
// import leaves the project exactly as it was. Duplicates (already in the project, or repeated
// in the file) are skipped and counted.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ImportResult, JobProgress } from '../api/contract.js';
import { JobCancelled } from '../jobs/types.js';
import { IMPORT_ANNOTATOR } from '../store/annotators.js';
import { hashParts } from '../store/hash.js';
import type { Project } from '../store/project.js';
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

/** Records between event-loop turns, so a cancel request gets through during a long import. */
const YIELD_EVERY = 2000;
const PROGRESS_MS = 200;

export async function importData(project: Project, source: Source, kind: ImportKind, opts: ImportOptions = {}): Promise<ImportResult> {
  const total = await sourceSize(source);
  const insert = inserter(project, source.name, kind, opts.split);
  const db = project.db;
  let imported = 0;
  let skipped = 0;
  let records = 0;
  const started = Date.now();
  let lastProgress = started;
  const report = (done: number) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? records / seconds : undefined;
    opts.onProgress?.({ done, total, unit: 'bytes', message: `${records} records`, rate, etaSeconds: rate && done ? ((total - done) / done) * seconds : undefined });
  };

  // A manual BEGIN, not db.transaction(): the transaction spans awaits while the file streams.
  db.exec('BEGIN IMMEDIATE');
  try {
    for await (const rec of readRecords(source)) {
      if (opts.signal?.aborted) throw new JobCancelled();
      if (insert(rec)) imported++;
      else skipped++;
      records++;
      if (records % YIELD_EVERY === 0) await yieldToEventLoop();
      const now = Date.now();
      if (now - lastProgress >= PROGRESS_MS && rec.bytes && rec.bytes < total) {
        lastProgress = now;
        report(rec.bytes);
      }
    }
    if (opts.signal?.aborted) throw new JobCancelled();
    if (records === 0) throw new DataError(source.name, null, 'the file holds no records');
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
  report(total);
  return { imported, skipped };
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
