// The application menu. File actions go through the same API handlers as the renderer, so a
// menu import behaves exactly like one started from the Data view.
import { BrowserWindow, dialog, Menu, type MenuItemConstructorOptions } from 'electron';
import { basename } from 'node:path';
import type { ApiContext } from '../api/context.js';
import { exportKinds, importKinds } from '../shared/contract.js';
import { dispatch, type Handlers } from '../api/router.js';
import type { Services } from '../api/services.js';
import { backupProject } from '../store/backup.js';

const PROJECT_FILTER = [{ name: 'RLHF Lab project', extensions: ['rlhf'] }];
const DATA_FILTER = [{ name: 'Data', extensions: ['jsonl', 'json', 'csv'] }];

export interface MenuDeps {
  services: Services;
  handlers: Partial<Handlers<ApiContext>>;
  window: () => BrowserWindow | null;
}

async function run(deps: MenuDeps, method: string, input: unknown): Promise<void> {
  const res = await dispatch(deps.handlers, method, input, { app: deps.services, annotatorId: null });
  if (!res.ok) dialog.showErrorBox('RLHF Lab', res.error.message);
}

/** Asks which of `choices` the user means; null when cancelled. */
async function choose<T extends string>(win: BrowserWindow, message: string, choices: readonly T[]): Promise<T | null> {
  const { response } = await dialog.showMessageBox(win, { type: 'question', message, buttons: [...choices, 'Cancel'], cancelId: choices.length });
  return choices[response] ?? null;
}

function fileMenu(deps: MenuDeps): MenuItemConstructorOptions {
  const win = () => deps.window() ?? undefined;
  const hasProject = deps.services.hasProject();
  const recent = deps.services.recentProjects();
  return {
    label: 'File',
    submenu: [
      {
        label: 'New Project…',
        accelerator: 'CmdOrCtrl+N',
        click: async () => {
          const { canceled, filePath } = await dialog.showSaveDialog(win()!, { title: 'New project', defaultPath: 'experiment.rlhf', filters: PROJECT_FILTER });
          if (!canceled && filePath) await run(deps, 'project.create', { path: filePath.endsWith('.rlhf') ? filePath : `${filePath}.rlhf` });
        },
      },
      {
        label: 'Open Project…',
        accelerator: 'CmdOrCtrl+O',
        click: async () => {
          const { canceled, filePaths } = await dialog.showOpenDialog(win()!, { properties: ['openFile'], filters: PROJECT_FILTER });
          if (!canceled && filePaths[0]) await run(deps, 'project.open', { path: filePaths[0] });
        },
      },
      {
        label: 'Open Recent',
        enabled: recent.length > 0,
        submenu: recent.map((path) => ({ label: basename(path), sublabel: path, click: () => run(deps, 'project.open', { path }) })),
      },
      { type: 'separator' },
      {
        label: 'Import…',
        accelerator: 'CmdOrCtrl+I',
        enabled: hasProject,
        click: async () => {
          const w = win()!;
          const { canceled, filePaths } = await dialog.showOpenDialog(w, { properties: ['openFile'], filters: DATA_FILTER });
          if (canceled || !filePaths[0]) return;
          const as = await choose(w, `Import ${basename(filePaths[0])} as…`, importKinds.options);
          if (as) await run(deps, 'data.import', { file: filePaths[0], as });
        },
      },
      {
        label: 'Export…',
        accelerator: 'CmdOrCtrl+E',
        enabled: hasProject,
        click: async () => {
          const w = win()!;
          const as = await choose(w, 'Export which data?', exportKinds.options);
          if (!as) return;
          const { canceled, filePath } = await dialog.showSaveDialog(w, { defaultPath: `${as}.jsonl`, filters: DATA_FILTER });
          if (!canceled && filePath) await run(deps, 'data.export', { file: filePath, as });
        },
      },
      {
        label: 'Back Up Project…',
        enabled: hasProject,
        click: async () => {
          const project = deps.services.project();
          const { canceled, filePath } = await dialog.showSaveDialog(win()!, {
            title: 'Back up project',
            defaultPath: `${basename(project.path, '.rlhf')}-backup.rlhf`,
            filters: PROJECT_FILTER,
          });
          // SQLite's online backup: consistent even while a run or annotators are writing.
          if (!canceled && filePath) await backupProject(project.db, filePath).catch((e: Error) => dialog.showErrorBox('Backup failed', e.message));
        },
      },
      { type: 'separator' },
      process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
    ],
  };
}

export function buildMenu(deps: MenuDeps): Menu {
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as const] : []),
    fileMenu(deps),
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  return Menu.buildFromTemplate(template);
}

/** Sets the menu now and rebuilds it when the project changes (recent list, enabled items). */
export function setupMenu(deps: MenuDeps): () => void {
  Menu.setApplicationMenu(buildMenu(deps));
  return deps.services.subscribe((event) => {
    if (event === 'project.changed') Menu.setApplicationMenu(buildMenu(deps));
  });
}
