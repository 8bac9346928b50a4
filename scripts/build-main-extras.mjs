// After `tsc -p tsconfig.main.json`: the pieces tsc does not produce.
// 1. The SQL migrations, which db.ts reads from dist-main/store/migrations at run time.
// 2. The compiled wasm kernels (engine/kernels/*.wasm, read next to attention-kernel.js).
// 3. The preload as one CommonJS file: Electron's sandboxed preloads cannot load ES modules
//    or require our own files, so vite bundles it (with its one import, the channel names).
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { build } from 'vite';

const migrations = 'src-main/store/migrations';
mkdirSync(`dist-main/store/migrations`, { recursive: true });
for (const f of readdirSync(migrations).filter((f) => f.endsWith('.sql'))) {
  cpSync(`${migrations}/${f}`, `dist-main/store/migrations/${f}`);
}

const kernels = 'src-main/engine/kernels';
mkdirSync('dist-main/engine/kernels', { recursive: true });
for (const f of readdirSync(kernels).filter((f) => f.endsWith('.wasm'))) {
  cpSync(`${kernels}/${f}`, `dist-main/engine/kernels/${f}`);
}

await build({
  configFile: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist-main',
    emptyOutDir: false,
    minify: false,
    target: 'node20',
    lib: { entry: 'src-main/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
