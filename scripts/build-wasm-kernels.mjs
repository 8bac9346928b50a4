// Compiles every src-main/engine/kernels/*.c to a .wasm next to it (committed, so neither a
// checkout nor CI needs clang to run the app). Needs clang and lld with the wasm32 target
// (Debian: `apt-get install clang lld`). `--check` builds into a temporary folder instead and
// fails when a committed .wasm differs from what its source compiles to. Source names given as
// arguments (`attention.c`) limit the build to those.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = 'src-main/engine/kernels';
const check = process.argv.includes('--check');
const only = process.argv.slice(2).filter((a) => a.endsWith('.c'));
// No libc: the kernels use only SIMD intrinsics. Bulk memory turns zero-fill loops into
// memory.fill instead of calls to a memset that does not exist. Stripped: the output then
// depends on the source and compiler only, not on paths.
const FLAGS = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-mbulk-memory',
  '-nostdlib',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wl,--no-entry',
  '-Wl,--export-dynamic',
  '-Wl,--export=__heap_base',
  '-Wl,--strip-all',
];

// These work in place on tfjs-wasm's heap, so they import that memory instead of owning one.
const IN_PLACE = ['attend-one.c', 'adamw.c', 'layer-ops.c'];
const EXTRA_FLAGS = Object.fromEntries(IN_PLACE.map((src) => [src, ['-Wl,--import-memory']]));

const outDir = check ? mkdtempSync(join(tmpdir(), 'wasm-kernels-')) : dir;
const stale = [];
try {
  for (const src of readdirSync(dir).filter((f) => f.endsWith('.c') && (only.length === 0 || only.includes(f)))) {
    const wasm = src.replace(/\.c$/, '.wasm');
    execFileSync('clang', [...FLAGS, ...(EXTRA_FLAGS[src] ?? []), '-o', join(outDir, wasm), join(dir, src)], { stdio: 'inherit' });
    if (check && !readFileSync(join(outDir, wasm)).equals(readFileSync(join(dir, wasm)))) stale.push(wasm);
    else if (!check) console.log(`built ${join(dir, wasm)}`);
  }
} finally {
  if (check) rmSync(outDir, { recursive: true, force: true });
}
if (stale.length > 0) {
  console.error(`out of date (run npm run build:kernels): ${stale.join(', ')}`);
  process.exit(1);
}
