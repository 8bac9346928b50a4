// Every file a source comment cites is in the repository (issue 18: comments cited notes and
// README pages that never were in it). The fixture project proves the scan catches such
// citations and leaves URLs, strings and system headers alone.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokenCitations, citedPaths, commentLines } from './cited-paths.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'broken-citations');

describe('cited paths', () => {
  it('every path a comment cites exists in the repository', () => {
    const broken = brokenCitations(ROOT).map((b) => `${b.file}:${b.line} cites ${b.path}`);
    expect(broken).toEqual([]);
  });

  it('reports each missing citation of the fixture project with its file and line, and nothing else', () => {
    expect(brokenCitations(FIXTURE)).toEqual([
      { file: 'src-main/engine/step.ts', line: 3, path: 'ALGORITHMS.md' },
      { file: 'src-main/engine/step.ts', line: 3, path: 'docs/readme/labeling.md' },
      { file: 'src-main/engine/step.ts', line: 7, path: 'api/http.ts' },
      { file: 'src-main/engine/step.ts', line: 7, path: 'engine/kernels/' },
    ]);
  });

  it('reads comments only: line and block comments, Svelte markup and script comments, shell comments', () => {
    const ts = "const a = 'x // not/a-comment.md'; // cited/one.md\n/* cited/two.md\n still cited/three.md */ const b = 1;";
    expect(commentLines(ts, '.ts').flatMap((c) => citedPaths(c.text))).toEqual(['cited/one.md', 'cited/two.md', 'cited/three.md']);
    const svelte = "<script lang=\"ts\">\n  const s = 'docs/not.md'; // docs/script.md\n</script>\n<p>docs/not.md</p>\n<!-- docs/yes.md -->";
    expect(commentLines(svelte, '.svelte')).toEqual([
      { line: 2, text: ' docs/script.md' },
      { line: 5, text: ' docs/yes.md ' },
    ]);
    expect(commentLines('echo docs/not.md # docs/yes.md', '.sh').flatMap((c) => citedPaths(c.text))).toEqual(['docs/yes.md']);
    expect(commentLines("SELECT 'docs/not.md'; -- docs/yes.md", '.sql').flatMap((c) => citedPaths(c.text))).toEqual(['docs/yes.md']);
  });
});
