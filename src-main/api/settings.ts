// App settings that outlive a session: recent projects, the last project, the window's bounds.
// One small JSON file in the user's data directory; a missing or damaged file means defaults.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

const MAX_RECENT = 10;

const settingsSchema = z.object({
  recentProjects: z.array(z.string()).default([]),
  lastProject: z.string().nullable().default(null),
  window: z
    .object({ width: z.number().int().min(200), height: z.number().int().min(200), maximized: z.boolean().default(false) })
    .nullable()
    .default(null),
});
export type Settings = z.infer<typeof settingsSchema>;

/** Where the CLI keeps settings (Electron passes app.getPath('userData') instead). */
export function defaultDataDir(): string {
  if (process.env.RLHF_LAB_HOME) return process.env.RLHF_LAB_HOME;
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'rlhf-lab');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'rlhf-lab');
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'rlhf-lab');
}

export class SettingsStore {
  readonly file: string;
  #data: Settings;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'settings.json');
    this.#data = this.#read();
  }

  get(): Readonly<Settings> {
    return this.#data;
  }

  /** Puts `path` first in the recent list and remembers it as the project to reopen. */
  rememberProject(path: string): void {
    const abs = resolve(path);
    const recent = [abs, ...this.#data.recentProjects.filter((p) => p !== abs)].slice(0, MAX_RECENT);
    this.update({ recentProjects: recent, lastProject: abs });
  }

  update(patch: Partial<Settings>): void {
    this.#data = { ...this.#data, ...patch };
    mkdirSync(dirname(this.file), { recursive: true });
    // Write-then-rename so a crash mid-write never leaves a half file behind.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#data, null, 2));
    renameSync(tmp, this.file);
  }

  #read(): Settings {
    try {
      return settingsSchema.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      return settingsSchema.parse({});
    }
  }
}
