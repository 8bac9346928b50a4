// Where the app's own files are, relative to this module (src-main/ when run from source,
// dist-main/ when built; both sit beside dist-renderer/ and resources/).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const RENDERER_DIR = resolve(root, 'dist-renderer');
export const BUNDLED_DEMO = resolve(root, 'resources/demo/demo.rlhf');
