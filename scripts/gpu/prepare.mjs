// Packs what `scripts/gpu-bench.sh run` needs on a GPU machine that has no Node and no network
// (the device machine, README "GPU backend"): this checkout's engine and CLI as plain JS (esbuild
// transpiles each module; no bundling, so module-relative paths such as the job registry's still
// hold), the node_modules files those modules actually load (found with esbuild's metafile),
// dawn.node, the demo's base project and the PyTorch reference, as one app.tar.xz; and this
// machine's node binary as node.xz. Usage: node scripts/gpu/prepare.mjs <out-dir>
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const out = path.resolve(process.argv[2] ?? '.gpu');
const stage = path.join(out, 'stage');
const app = path.join(stage, 'app');
rmSync(stage, { recursive: true, force: true });
mkdirSync(app, { recursive: true });

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
const copy = (from, to) => {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
};

// 1. The app's modules, one JS file per TS file, in dist-main/ as `npm run build:main` lays them out.
const sources = walk('src-main').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('preload.ts'));
await build({ entryPoints: sources, outdir: path.join(app, 'dist-main'), outbase: 'src-main', format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning' });
for (const f of readdirSync('src-main/store/migrations')) copy(`src-main/store/migrations/${f}`, path.join(app, 'dist-main/store/migrations', f));
for (const f of readdirSync('src-main/engine/kernels').filter((f) => f.endsWith('.wasm'))) copy(`src-main/engine/kernels/${f}`, path.join(app, 'dist-main/engine/kernels', f));
copy('package.json', path.join(app, 'package.json'));
copy('bench/reference.py', path.join(app, 'bench/reference.py'));
for (const f of ['demo-base.rlhf', 'GUIDELINES.md']) copy(`resources/demo/${f}`, path.join(app, 'resources/demo', f));
writeFileSync(
  path.join(app, 'rlhf-lab.mjs'),
  "const { main } = await import('./dist-main/cli/index.js');\nprocess.exit(await main(process.argv.slice(2)));\n",
);

// 2. The node_modules files the CLI, the job kinds, the workers and the backends load.
const entries = [
  'src-main/cli/index.ts',
  ...sources.filter((f) => f.startsWith('src-main/jobs/kinds/') || /worker\.ts$/.test(f)),
  'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js',
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js',
  'node_modules/webgpu/index.js',
];
const meta = await build({ entryPoints: entries, bundle: true, write: false, outdir: path.join(stage, 'unused'), format: 'esm', platform: 'node', metafile: true, external: ['electron'], logLevel: 'error' });
const packageJsonOf = (file) => {
  for (let d = path.dirname(file); d.includes('node_modules'); d = path.dirname(d)) if (existsSync(path.join(d, 'package.json'))) return path.join(d, 'package.json');
  return null;
};
const needed = new Set();
for (const input of Object.keys(meta.metafile.inputs)) {
  if (!input.startsWith('node_modules/')) continue;
  needed.add(input);
  const pj = packageJsonOf(input);
  if (pj) needed.add(pj);
}
// Loaded by path at run time, invisible to the bundler.
const binaries = [
  'node_modules/webgpu/dist/linux-x64/dawn.node',
  'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
  'node_modules/@tensorflow/tfjs-backend-wasm/package.json',
  ...readdirSync('node_modules/@tensorflow/tfjs-backend-wasm/dist')
    .filter((f) => f.endsWith('.wasm'))
    .map((f) => `node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`),
];
for (const f of [...needed, ...binaries]) copy(f, path.join(app, f));

// 3. Compressed: the device machine unpacks with Python's lzma/tarfile (no xz there).
execFileSync('tar', ['-cJf', path.join(out, 'app.tar.xz'), '-C', stage, 'app']);
// The node binary changes only with Node itself: an existing node.xz of this same binary is kept.
const nodeXz = path.join(out, 'node.xz');
if (!existsSync(nodeXz) || statSync(nodeXz).mtimeMs < statSync(process.execPath).mtimeMs) execFileSync('sh', ['-c', `xz -T2 -c "${process.execPath}" > "${nodeXz}"`]);
rmSync(stage, { recursive: true, force: true });
const mb = (f) => (statSync(path.join(out, f)).size / 2 ** 20).toFixed(1);
console.log(`${out}: app.tar.xz ${mb('app.tar.xz')} MiB (${needed.size + binaries.length} node_modules files), node.xz ${mb('node.xz')} MiB`);
