// The layer rule (lint/layers.js, configured in eslint.config.js) run through ESLint's Node API on
// snippets placed at real paths of the tree, so the rule cannot silently stop reporting.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The layer rule's messages for `code` as if it were the file at `file` (repository-relative). */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: root + file });
  return result!.messages.filter((m) => m.ruleId === 'layers/import-direction').map((m) => m.message);
}

describe('layer rule', () => {
  it('reports an import of a higher layer, naming both files and what the part may import', async () => {
    const errors = await layerErrors('src-main/store/fixture.ts', "import { dispatch } from '../api/router.js';\nexport const d = dispatch;\n");
    expect(errors).toEqual([
      'src-main/store/fixture.ts (store) imports src-main/api/router.js (api): store may import only shared. See docs/architecture.md.',
    ]);
  });

  it('keeps the shared vocabulary free of anything of ours, packages allowed', async () => {
    const code = "import { z } from 'zod';\nimport { Rng } from '../engine/rng.js';\nexport const x = [z, Rng];\n";
    expect(await layerErrors('src-main/shared/fixture.ts', code)).toEqual([
      'src-main/shared/fixture.ts (shared) imports src-main/engine/rng.js (engine): shared may import nothing of ours. See docs/architecture.md.',
    ]);
  });

  it('reports type-only, dynamic and import-type imports as well', async () => {
    const code = [
      "import type { Handlers } from '../api/router.js';",
      "export const load = () => import('../compare/compare.js');",
      "export type Fn = import('../jobs/types.js').JobFn<number, number>;",
      'export type H = Handlers<unknown>;',
    ].join('\n');
    expect(await layerErrors('src-main/engine/fixture.ts', code)).toHaveLength(3);
  });

  it('resolves the path: engine/models/ importing engine/train/ is inside the engine, engine/ importing src-main/train/ is not', async () => {
    expect(await layerErrors('src-main/engine/models/fixture.ts', "export * from '../train/ppo.js';\n")).toEqual([]);
    expect(await layerErrors('src-main/engine/fixture.ts', "export * from '../train/stages.js';\n")).toHaveLength(1);
  });

  it('lets each part import the parts below it', async () => {
    expect(await layerErrors('src-main/jobs/kinds/fixture.ts', "export * from '../../demo/pipeline.js';\nexport * from '../../store/project.js';\n")).toEqual([]);
    expect(await layerErrors('src-main/demo/fixture.ts', "export * from '../compare/compare.js';\nexport * from '../jobs/run-in-process.js';\n")).toEqual([]);
    expect(await layerErrors('src-main/api/fixture.ts', "export * from '../jobs/kinds/compare.js';\nexport * from '../shared/errors.js';\n")).toEqual([]);
  });

  it('keeps services apart: compare may not import the demo, the demo may import compare', async () => {
    expect(await layerErrors('src-main/compare/fixture.ts', "export * from '../demo/rubric.js';\n")).toHaveLength(1);
    expect(await layerErrors('src-main/data/fixture.ts', "export * from '../jobs/kinds/import.js';\n")).toHaveLength(1);
  });

  it('lets the renderer import only the shared layer of the main process', async () => {
    expect(await layerErrors('src-renderer/lib/fixture.ts', "export type * from '../../src-main/shared/contract.js';\n")).toEqual([]);
    expect(await layerErrors('src-renderer/lib/fixture.ts', "export * from '../../src-main/api/router.js';\n")).toHaveLength(1);
  });

  it('allows an upward import only from the file its exception names', async () => {
    // eslint.config.js allows train/stages.ts (a service) to import demo/pipeline (above it), and no other file.
    expect(await layerErrors('src-main/train/stages.ts', "export * from '../demo/pipeline.js';\n")).toEqual([]);
    expect(await layerErrors('src-main/train/metrics-csv.ts', "export * from '../demo/pipeline.js';\n")).toHaveLength(1);
    // The engine's former exceptions (persistence → store) are gone with the imports.
    expect(await layerErrors('src-main/engine/io/sample-text.ts', "export * from '../../store/project.js';\n")).toHaveLength(1);
  });

  // ESLint does not read .svelte files (svelte-check does), so the renderer's components are checked here.
  it('no Svelte component imports the main process beyond src-main/shared/', () => {
    const components = readdirSync(root + 'src-renderer', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.svelte'));
    expect(components.length).toBeGreaterThan(10);
    const outside = components.flatMap((f) => {
      const file = resolve(root, 'src-renderer', f);
      const specifiers = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
      return specifiers.map((s) => relative(root, resolve(dirname(file), s)).split('\\').join('/')).filter((t) => t.startsWith('src-main/') && !t.startsWith('src-main/shared/'));
    });
    expect(outside).toEqual([]);
  });
});
