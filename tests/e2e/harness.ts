// End-to-end harness for browser mode: the real server in-process on a free port, a temp
// project, Debian's Chromium driven by playwright-core, screenshots into /screenshots.
// Every view's Playwright test starts with `const e2e = await startE2E()` and ends with
// `await e2e.close()`.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src-main/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RENDERER_DIR = join(ROOT, 'dist-renderer');
export const SCREENSHOT_DIR = join(ROOT, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface E2EOptions {
  /** 'open' (default): a fresh project is created and open; 'none': the app starts without one. */
  project?: 'open' | 'none';
  viewport?: { width: number; height: number };
}

export interface E2E {
  page: Page;
  context: BrowserContext;
  server: RunningServer;
  /** The page URL (the server's root). */
  url: string;
  /** The temp project file; with project 'none' it does not exist yet. */
  projectPath: string;
  /** A temp directory for the test's own files; removed on close. */
  dir: string;
  /** Messages from console.error, page errors and CSP violations: a clean page has none. */
  consoleErrors: string[];
  /**
   * Stops the server and starts a new one on the same port with the same project, as when a user
   * restarts `rlhf-lab serve`; `stopped` runs while it is down. `server` then points at the new one.
   */
  restartServer(stopped?: () => Promise<void>): Promise<void>;
  /** Saves screenshots/<name>.png (the viewport) and returns its path. */
  screenshot(name: string, opts?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds the renderer when dist-renderer is missing or older than src-renderer, so a test never
 * runs against a stale bundle. A lock directory keeps parallel test runs from building at once.
 */
export async function ensureRendererBuilt(): Promise<void> {
  const index = join(RENDERER_DIR, 'index.html');
  const fresh = () =>
    existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, 'src-renderer'));
  if (fresh()) return;
  const lock = join(tmpdir(), 'rlhf-lab-renderer-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than two minutes is left over from a crash.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (fresh()) return;
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function startE2E(opts: E2EOptions = {}): Promise<E2E> {
  await ensureRendererBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'rlhf-e2e-'));
  // Settings (recent projects) go to the temp dir, never to the user's real config.
  process.env.RLHF_LAB_HOME = join(dir, 'home');
  const projectPath = join(dir, 'e2e.rlhf');
  const server = await startServer({ port: 0, rendererDir: RENDERER_DIR });
  if ((opts.project ?? 'open') === 'open') server.services.openProject(projectPath, { create: true });

  const context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Fail fast: a UI that needs more than 10 s for one step is broken anyway.
  page.setDefaultTimeout(10_000);
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(server.url);

  const e2e: E2E = {
    page,
    context,
    server,
    url: server.url,
    projectPath,
    dir,
    consoleErrors,
    async restartServer(stopped) {
      const project = e2e.server.services.hasProject() ? e2e.server.services.project().path : null;
      const port = e2e.server.port;
      await e2e.server.close();
      await stopped?.();
      e2e.server = await startServer({ port, rendererDir: RENDERER_DIR });
      if (project) e2e.server.services.openProject(project);
    },
    async screenshot(name, shotOpts = {}) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: shotOpts.fullPage ?? false });
      return path;
    },
    async close() {
      await context.close().catch(() => {});
      await e2e.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return e2e;
}
