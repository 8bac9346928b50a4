import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handlers } from '../../../src-main/api/handlers/index.js';
import { Services } from '../../../src-main/api/services.js';
import { setupMenu } from '../../../src-main/electron/menu.js';
import { setupTaskbarProgress } from '../../../src-main/electron/progress.js';
import { BrowserWindow, dialog, Menu } from './mock-electron.js';

vi.mock('electron', () => import('./mock-electron.js'));

interface Item {
  label?: string;
  role?: string;
  enabled?: boolean;
  submenu?: Item[];
  click?: () => Promise<void> | void;
}

let dir: string;
let services: Services;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlhf-menu-'));
  services = new Services({ dataDir: join(dir, 'home') });
});
afterEach(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

const fileMenu = () => (Menu.current!.template as Item[]).find((i) => i.label === 'File')!.submenu!;
const item = (label: string) => fileMenu().find((i) => i.label === label)!;

describe('application menu', () => {
  it('has the File actions and the standard Edit, View and Window menus', () => {
    setupMenu({ services, handlers, window: () => null });
    const labels = fileMenu().map((i) => i.label).filter(Boolean);
    expect(labels).toEqual(['New Project…', 'Open Project…', 'Open Recent', 'Import…', 'Export…', 'Back Up Project…']);
    const roles = (Menu.current!.template as Item[]).map((i) => i.role).filter(Boolean);
    expect(roles).toEqual(expect.arrayContaining(['editMenu', 'viewMenu', 'windowMenu']));
    // Without a project, nothing to import, export or back up.
    expect(item('Import…').enabled).toBe(false);
  });

  it('creates a project through the API and rebuilds itself with the recent list', async () => {
    const win = new BrowserWindow({});
    setupMenu({ services, handlers, window: () => win as never });
    const path = join(dir, 'fresh');
    dialog.showSaveDialog.mockResolvedValueOnce({ canceled: false, filePath: path });
    await item('New Project…').click!();
    expect(services.projectInfo()).toMatchObject({ path: `${path}.rlhf` });
    expect(item('Import…').enabled).toBe(true);
    expect(item('Open Recent').submenu!.map((i) => i.label)).toEqual(['fresh.rlhf']);
  });

  it('shows the API error when an action fails', async () => {
    const win = new BrowserWindow({});
    setupMenu({ services, handlers, window: () => win as never });
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [join(dir, 'missing.rlhf')] });
    await item('Open Project…').click!();
    expect(dialog.showErrorBox).toHaveBeenCalledWith('RLHF Lab', expect.stringContaining('No project file'));
  });
});

describe('taskbar progress', () => {
  it('follows job progress and clears when no job runs', () => {
    const win = new BrowserWindow({});
    setupTaskbarProgress(win as never, services);
    const job = { id: 'job-1', kind: 'import', label: 'x', status: 'running' as const };
    services.emit('job.progress', { ...job, progress: { done: 25, total: 100, unit: 'lines' } });
    services.emit('job.progress', { ...job, progress: null });
    services.emit('job.done', { ...job, status: 'completed', progress: null });
    expect(win.progress).toEqual([0.25, 2, -1]);
  });
});
