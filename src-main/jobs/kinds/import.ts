// The `import` job: one data file (by path, or an uploaded text) into the project, all or nothing.
import { basename } from 'node:path';
import { z } from 'zod';
import type { ImportResult } from '../../shared/contract.js';
import { importKinds } from '../../shared/contract.js';
import { importData } from '../../data/import.js';
import type { Source } from '../../data/text-source.js';
import type { JobFn } from '../types.js';

export const importParams = z.union([
  z.object({ file: z.string().min(1), as: importKinds, split: z.enum(['train', 'eval']).optional() }).strict(),
  z.object({ name: z.string().min(1), text: z.string(), as: importKinds, split: z.enum(['train', 'eval']).optional() }).strict(),
]);
export type ImportParams = z.infer<typeof importParams>;

export const importJob: JobFn<ImportParams, ImportResult> = async (params, ctx) => {
  const p = importParams.parse(params);
  // Errors name the file as the user knows it: the path given to the CLI, the upload's name.
  const source: Source = 'file' in p ? { name: p.file, path: p.file } : { name: basename(p.name), bytes: Buffer.from(p.text, 'utf8') };
  const result = await importData(ctx.project, source, p.as, { split: p.split, signal: ctx.signal, onProgress: ctx.progress });
  ctx.log(`${source.name}: imported ${result.imported}, skipped ${result.skipped} duplicates`);
  return result;
};
