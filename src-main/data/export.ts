// Exports a project's data: preferences in TRL's format (`{"prompt","chosen","rejected"}`, so a
// team continues with TRL / OpenRLHF on the same data) or as Anthropic HH transcripts; SFT
// examples, prompts, rankings (our own format, importable back) and comparisons.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Project } from '../store/project.js';
import { HH_ASSISTANT } from './records.js';
import type { Message } from './schemas.js';
import type { ExportKind } from '../shared/vocabulary.js';

export type PreferenceFormat = 'trl' | 'hh';

/** Every record of `kind`, as plain objects in the exported shape. */
export function* exportRecords(project: Project, kind: ExportKind, format: PreferenceFormat = 'trl'): Generator<Record<string, unknown>> {
  switch (kind) {
    case 'preferences':
      for (const p of project.preferences.iteratePairs()) {
        if (format === 'hh') {
          const prompt = p.prompt.endsWith(HH_ASSISTANT) ? p.prompt : `\n\nHuman: ${p.prompt}${HH_ASSISTANT} `;
          yield { chosen: prompt + p.chosen, rejected: prompt + p.rejected };
          continue;
        }
        const messages = promptMessages(p.prompt_meta);
        if (messages) {
          yield {
            prompt: messages,
            chosen: [{ role: 'assistant', content: p.chosen }],
            rejected: [{ role: 'assistant', content: p.rejected }],
          };
        } else yield { prompt: p.prompt, chosen: p.chosen, rejected: p.rejected };
      }
      return;
    case 'sft':
      for (const e of project.sft.iterate()) {
        if (e.kind === 'completion') yield { prompt: e.prompt, completion: e.completion, split: e.split };
        else if (e.kind === 'messages') yield { messages: e.messages, split: e.split };
        else yield { text: e.text, split: e.split };
      }
      return;
    case 'prompts':
      for (const p of project.prompts.iterate()) yield { prompt: p.text, split: p.split };
      return;
    case 'rankings':
      for (const r of project.preferences.iterateRankings()) {
        const responses: string[] = [];
        const ranking: number[] = [];
        r.groups.forEach((group, g) => {
          for (const resp of group) {
            responses.push(resp.text);
            ranking.push(g + 1);
          }
        });
        yield { prompt: r.prompt, responses, ranking, annotator: r.annotator, flags: r.flags, comment: r.comment, seconds: r.seconds };
      }
      return;
    case 'comparisons':
      for (const c of project.preferences.iterateComparisons()) yield { ...c };
      return;
  }
}

function promptMessages(meta: string | null): Message[] | null {
  if (!meta) return null;
  const m = JSON.parse(meta) as { messages?: Message[] };
  return Array.isArray(m.messages) ? m.messages : null;
}

/** The records as JSONL text (one object per line), or a JSON array for `.json` names. */
export function exportText(project: Project, kind: ExportKind, format: PreferenceFormat = 'trl', asJsonArray = false): { text: string; count: number } {
  const lines: string[] = [];
  for (const r of exportRecords(project, kind, format)) lines.push(JSON.stringify(r));
  const text = asJsonArray ? `[\n${lines.join(',\n')}\n]\n` : lines.map((l) => `${l}\n`).join('');
  return { text, count: lines.length };
}

const FLUSH_CHARS = 1 << 20;

/**
 * Writes the export to `file` (.jsonl, or a JSON array for .json) through a temporary file
 * renamed at the end, so an interrupted export never leaves half a file under the real name.
 */
export function exportToFile(project: Project, file: string, kind: ExportKind, format: PreferenceFormat = 'trl'): { path: string; count: number } {
  const asArray = file.toLowerCase().endsWith('.json');
  const tmp = `${file}.partial`;
  const fd = openSync(tmp, 'w');
  let open = true;
  let count = 0;
  try {
    let buf = asArray ? '[\n' : '';
    for (const r of exportRecords(project, kind, format)) {
      buf += (asArray && count > 0 ? ',\n' : '') + JSON.stringify(r) + (asArray ? '' : '\n');
      count++;
      if (buf.length >= FLUSH_CHARS) {
        writeSync(fd, buf);
        buf = '';
      }
    }
    if (asArray) buf += count > 0 ? '\n]\n' : ']\n';
    writeSync(fd, buf);
    closeSync(fd);
    open = false;
    renameSync(tmp, file);
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  return { path: file, count };
}
