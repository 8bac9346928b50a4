// Issue 2 at scale: 100k preference pairs import completely, and paging and searching them give
// the right totals and rows. How long that takes is measured by bench/import-browse.ts (timings
// depend on the machine and its load, so they are reported there, never asserted here).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importData } from '../../../src-main/data/import.js';
import { tempDir, tempProject } from '../store/temp-project.js';

const N = 100_000;
const topics = ['physics', 'cooking', 'history', 'music', 'gardening', 'travel', 'finance', 'chess'];

describe('import and browse at 100k pairs', () => {
  it('imports 100k pairs; pages and searches find the right rows', async () => {
    const file = join(tempDir(), 'prefs-100k.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < N; i++) {
      const t = topics[i % topics.length];
      lines.push(
        JSON.stringify({
          prompt: `Question ${i} about ${t}: how would you explain the idea to a curious friend?`,
          chosen: `A clear, friendly explanation of ${t} number ${i}, with one concrete example.`,
          rejected: `I don't know much about ${t}; look it up (${i}).`,
        }),
      );
    }
    writeFileSync(file, lines.join('\n') + '\n');
    const project = tempProject();
    expect(await importData(project, { name: file, path: file }, 'preferences')).toEqual({ imported: N, skipped: 0 });

    const pairs = project.preferences;
    const page = (label: string, got: { total: number; rows: unknown[] }, total: number, rows: number) => {
      expect(got.total, label).toBe(total);
      expect(got.rows.length, label).toBe(rows);
    };
    page('pairs first page', pairs.pairsPage({ offset: 0, limit: 50 }), N, 50);
    page('pairs last page', pairs.pairsPage({ offset: N - 50, limit: 50 }), N, 50);
    page('pairs search "chess", page 1', pairs.pairsPage({ search: 'chess', offset: 0, limit: 50 }), N / 8, 50);
    page('pairs search "chess", last page', pairs.pairsPage({ search: 'chess', offset: N / 8 - 50, limit: 50 }), N / 8, 50);
    const one = pairs.pairsPage({ search: 'number 99999', offset: 0, limit: 50 });
    page('pairs search "number 99999"', one, 1, 1);
    expect(one.rows[0]).toMatchObject({ chosen: expect.stringContaining('number 99999,') });
    page('prompts last page', project.prompts.page({ offset: N - 50, limit: 50 }), N, 50);
    const q = project.prompts.page({ search: 'Question 4242 about', offset: 0, limit: 50 });
    page('prompts search "Question 4242 about"', q, 1, 1);
    expect(project.stats.counts()).toMatchObject({ prompts: N, responses: 2 * N, rankings: N, pairs: N });
    project.close();
  }, 300_000);
});
