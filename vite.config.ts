import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The renderer is one static bundle, loaded by Electron from disk and by browser mode over HTTP.
export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [svelte()],
  build: { outDir: '../dist-renderer', emptyOutDir: true, target: 'es2022' },
});
