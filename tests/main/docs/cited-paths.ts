// Finds the files that source comments cite and reports those that are not in the repository.
// A citation is a path with a folder (`engine/train/ppo.ts`, `docs/algorithms.md`), a bare file
// name (`README.md`, `rlhf-math.ts`) or a folder path (`engine/parallel/`). A path counts as
// present when it exists relative to the repository root, to `src-main/` or `src-renderer/`
// (comments say `api/router.ts` for `src-main/api/router.ts`), or to the citing file's folder or
// any folder above it; a bare name when a file of that name exists anywhere in the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';

/** Where the source lives; build output, dependencies and test fixtures are not scanned. */
const SCANNED_DIRS = ['src-main', 'src-renderer', 'scripts', 'bench', 'bin', 'tests', '.ci'];
const SKIPPED_DIRS = new Set(['node_modules', 'fixtures', 'dist', 'dist-main', 'dist-renderer', 'results']);
const SLASH_COMMENT_EXTS = new Set(['.ts', '.mts', '.js', '.mjs', '.cjs', '.svelte', '.c', '.h']);
const HASH_COMMENT_EXTS = new Set(['.py', '.sh']);
const DASH_COMMENT_EXTS = new Set(['.sql']);
/** File kinds a comment may name by path; data files named in prose (config.json, *.safetensors) are formats, not citations. */
const CITABLE_EXTS = 'ts|mts|mjs|cjs|js|svelte|c|h|py|sh|sql|md';
// Not a citation: a path inside a URL or a package name (preceded by `/`, `:`, `@`), or a system
// header in angle brackets (`<linux/magic.h>`).
const PATH = new RegExp(String.raw`(?<![\w./@:<-])((?:\.{1,2}/)*[\w.-]+(?:/[\w.-]+)*\.(?:${CITABLE_EXTS}))(?![\w/-])`, 'g');

/** A folder cited by path with at least two parts (`engine/parallel/`); `eval/` or `1/` alone are prose and maths. */
const FOLDER = /(?<![\w./@:<-])((?:[A-Za-z][\w.-]+\/){2,})(?![\w*<{-]|\.\w)/g;

export interface Citation {
  /** The citing file, relative to the repository root. */
  file: string;
  line: number;
  path: string;
}

/** The comment text of a source file, one entry per line it spans (1-based line numbers). */
export function commentLines(source: string, ext: string): { line: number; text: string }[] {
  if (HASH_COMMENT_EXTS.has(ext) || ext === '') {
    const out: { line: number; text: string }[] = [];
    source.split('\n').forEach((l, i) => {
      const m = /(?:^|\s)#(?!!)(.*)$/.exec(l);
      if (m) out.push({ line: i + 1, text: m[1] ?? '' });
    });
    return out;
  }
  if (DASH_COMMENT_EXTS.has(ext)) {
    return source.split('\n').flatMap((l, i) => {
      const m = /--(.*)$/.exec(l);
      return m ? [{ line: i + 1, text: m[1] ?? '' }] : [];
    });
  }
  if (ext === '.svelte') return svelteComments(source);
  if (SLASH_COMMENT_EXTS.has(ext)) return slashComments(source, 0);
  return [];
}

/** Comments of C-like code (TypeScript, JavaScript, C): skips string, character and template literals. */
function slashComments(code: string, firstLine: number): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let line = firstLine;
  let i = 0;
  const push = (text: string, at: number) => text.split('\n').forEach((t, k) => out.push({ line: at + k + 1, text: t }));
  while (i < code.length) {
    const c = code[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '/' && code[i + 1] === '/') {
      const end = code.indexOf('\n', i);
      push(code.slice(i + 2, end < 0 ? code.length : end), line);
      i = end < 0 ? code.length : end;
    } else if (c === '/' && code[i + 1] === '*') {
      const end = code.indexOf('*/', i + 2);
      const text = code.slice(i + 2, end < 0 ? code.length : end);
      push(text, line);
      line += text.split('\n').length - 1;
      i = end < 0 ? code.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < code.length && code[i] !== c && (c === '`' || code[i] !== '\n')) {
        if (code[i] === '\n') line++;
        i += code[i] === '\\' ? 2 : 1;
      }
      i++;
    } else i++;
  }
  return out;
}

/** Comments of a Svelte component: `<!-- … -->` in the markup and the code comments of its scripts. */
function svelteComments(source: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lineAt = (index: number) => source.slice(0, index).split('\n').length - 1;
  const scripts = [...source.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)];
  for (const m of scripts) out.push(...slashComments(m[1] ?? '', lineAt(m.index + m[0].indexOf('>') + 1)));
  const markup = scripts.reduce((text, m) => text.replace(m[0], m[0].replace(/[^\n]/g, ' ')), source);
  for (const m of markup.matchAll(/<!--([\s\S]*?)-->/g)) {
    (m[1] ?? '').split('\n').forEach((t, k) => out.push({ line: lineAt(m.index) + k + 1, text: t }));
  }
  return out.sort((a, b) => a.line - b.line);
}

/** The paths a piece of comment text cites. */
export function citedPaths(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(PATH)) {
    // `NNNN-name.sql` is a pattern of names, not a name.
    if (m[1] && !m[1].includes('NNNN')) found.push(m[1]);
  }
  for (const m of text.matchAll(FOLDER)) if (m[1]) found.push(m[1]);
  return found;
}

/** Files the code writes at run time, named in comments as output, not as citations. */
const PRODUCED = new Set(['report.md']);

function isPresent(root: string, file: string, path: string, names: Set<string>): boolean {
  if (PRODUCED.has(path)) return true;
  // ES module specifiers name the compiled `.js` of a `.ts` source.
  const candidates = path.endsWith('.js') ? [path, path.slice(0, -3) + '.ts'] : [path];
  if (!path.includes('/')) return candidates.some((c) => names.has(c));
  const bases = [root, join(root, 'src-main'), join(root, 'src-renderer')];
  for (let d = dirname(join(root, file)); d.startsWith(root); d = dirname(d)) {
    bases.push(d);
    if (d === root) break;
  }
  return bases.some((b) => candidates.some((c) => existsSync(join(b, c))));
}

/** The names of all files in the repository outside dependencies and build output. */
function fileNames(root: string, dir = '', out = new Set<string>()): Set<string> {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '.git' && !e.name.startsWith('dist')) fileNames(root, join(dir, e.name), out);
    } else out.add(e.name);
  }
  return out;
}

function sourceFiles(root: string, dir: string, out: string[] = []): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return out;
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) sourceFiles(root, rel, out);
    } else if ([SLASH_COMMENT_EXTS, HASH_COMMENT_EXTS, DASH_COMMENT_EXTS].some((s) => s.has(extname(e.name))) || dir === '.ci') {
      out.push(rel);
    }
  }
  return out;
}

/** Every citation in the comments under `root` whose file is not there. */
export function brokenCitations(root: string): Citation[] {
  const broken: Citation[] = [];
  const names = fileNames(root);
  for (const dir of SCANNED_DIRS) {
    for (const file of sourceFiles(root, dir)) {
      const ext = dir === '.ci' && extname(file) === '' ? '' : extname(file);
      for (const { line, text } of commentLines(readFileSync(join(root, file), 'utf8'), ext)) {
        for (const path of citedPaths(text)) {
          if (!isPresent(root, file, path, names)) broken.push({ file: relative(root, join(root, file)).split(sep).join('/'), line, path });
        }
      }
    }
  }
  return broken;
}
