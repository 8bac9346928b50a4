// Where a project (or a backup) may be written. A path under a virtual filesystem such as
// /proc sends Node's recursive mkdir into an endless loop and SQLite into odd failures, so every
// file we create is checked first: its nearest existing folder must be a real, writable directory.
import { accessSync, constants, existsSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

export class ProjectLocationError extends Error {}

/** Kernel filesystems that hold no files of ours (statfs f_type magic numbers, <linux/magic.h>). */
const VIRTUAL_FS_TYPES = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x1cd1, // devpts
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x64626720, // debugfs
  0x73636673, // securityfs
  0x62656570, // configfs
  0x6165676c, // pstore
  0xcafe4a11, // bpf
  0x74726163, // tracefs
  0xde5e81e4, // efivarfs
]);
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** The nearest folder of `file` that exists (the one a recursive mkdir would start from). */
function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}

/** Throws ProjectLocationError, naming the path, unless `file` can be created where it is asked for. */
export function checkWritableLocation(file: string): void {
  const abs = resolve(file);
  const parent = dirname(abs);
  const base = nearestExisting(parent);
  let real: string;
  try {
    real = realpathSync(base);
  } catch (e) {
    throw new ProjectLocationError(`${abs}: cannot use the folder ${base} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (process.platform !== 'win32' && VIRTUAL_ROOTS.some((r) => under(real, r))) {
    throw new ProjectLocationError(`${abs}: ${real} is a system folder, not a place for files; choose a folder in your home directory`);
  }
  if (!statSync(real).isDirectory()) throw new ProjectLocationError(`${abs}: ${base} is a file, not a folder`);
  if (process.platform === 'linux' && VIRTUAL_FS_TYPES.has(Number(statfsSync(real).type))) {
    throw new ProjectLocationError(`${abs}: ${real} is on a virtual filesystem, not a place for files; choose another folder`);
  }
  try {
    accessSync(real, constants.W_OK);
  } catch {
    throw new ProjectLocationError(`${abs}: cannot write in ${real} (permission denied)`);
  }
}
