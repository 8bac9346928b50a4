// Flat ESLint config: typescript-eslint's recommended rules for TypeScript and scripts, and the
// layer rule that keeps src-main's imports pointing down (lint/layers.js, docs/architecture.md).
// Svelte components are checked by svelte-check (npm run typecheck), not by ESLint.
import tseslint from 'typescript-eslint';
import layers from './lint/layers.js';

// The parts of the app, bottom to top. A file belongs to the part of its longest matching prefix.
const parts = {
  'src-main/shared/': 'shared',
  'src-main/engine/': 'engine',
  'src-main/store/': 'store',
  'src-main/jobs/': 'jobs',
  'src-main/jobs/kinds/': 'job kinds',
  'src-main/label/': 'label',
  'src-main/train/': 'train',
  'src-main/compare/': 'compare',
  'src-main/data/': 'data',
  'src-main/demo/': 'demo',
  'src-main/api/': 'api',
  'src-main/paths.ts': 'app files',
  'src-main/app-version.ts': 'app files',
  'src-main/cli/': 'front ends',
  'src-main/electron/': 'front ends',
  'src-main/http/': 'front ends',
  'src-main/main.ts': 'front ends',
  'src-main/server.ts': 'front ends',
  'src-main/preload.ts': 'front ends',
  'src-renderer/': 'renderer',
};
const services = ['label', 'train', 'compare', 'data'];
const below = (...xs) => xs;
const mayImport = {
  shared: below(),
  // The engine and the store are side by side: neither imports the other (the exceptions below).
  engine: below('shared'),
  store: below('shared'),
  // The job runtime (manager, worker, registry); it loads job kinds by URL, never by import.
  jobs: below('engine', 'store', 'shared'),
  // Services: each stands alone on the layers below it...
  ...Object.fromEntries(services.map((s) => [s, below('jobs', 'engine', 'store', 'shared')])),
  // ...but the demo, which runs the whole pipeline (labels, training, comparison).
  demo: below(...services, 'jobs', 'engine', 'store', 'shared'),
  // One file per kind of job: each runs an engine stage or a service inside the job runtime.
  'job kinds': below('demo', ...services, 'jobs', 'engine', 'store', 'shared'),
  api: below('job kinds', 'demo', ...services, 'jobs', 'engine', 'store', 'shared', 'app files'),
  // Where the app's bundled files are and its version: constants that import nothing of ours.
  'app files': below(),
  'front ends': below('api', 'job kinds', 'demo', ...services, 'jobs', 'engine', 'store', 'shared', 'app files'),
  // The renderer talks to the main process only through the API contract.
  renderer: below('shared'),
};
// Upward imports that remain, each with its reason (docs/architecture.md lists them too).
const allow = [
  { from: 'src-main/train/stages.ts', to: 'src-main/demo/pipeline', reason: "the run form's Demo-sized preset reads demoSettings; the stage catalogue (issue 18 item 3) takes it over" },
];

export default tseslint.config(
  { ignores: ['dist*/**', 'node_modules/**', 'resources/**', 'out/**', 'test-results/**', '.*/**', '**/*.svelte'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['src-main/**/*.ts', 'src-renderer/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/import-direction': ['error', { parts, mayImport, allow }] },
  },
);
