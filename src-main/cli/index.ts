// `rlhf-lab <command> …` (CLI.md): finds the command, runs it, maps errors to exit statuses
// (0 ok, 2 bad input, 1 run-time failure, 130 cancelled with Ctrl-C). Commands load lazily so
// `stats` does not pay for tfjs.
import { SqliteError } from 'better-sqlite3';
import { JobCancelled, InputError } from '../shared/errors.js';
import { DamagedProjectError, NewerProjectError, NotAProjectError } from '../store/db.js';
import { ProjectLocationError } from '../store/location.js';
import { ProjectNotFoundError } from '../store/project.js';
import type { Command } from './command.js';
import { createIO } from './io.js';

type Loader = () => Promise<Command>;

/** Every command: append one line for a new one (module in cli/commands/<name>.ts). */
export const commandList: [name: string, load: Loader][] = [
  ['init', async () => (await import('./commands/init.js')).initCommand],
  ['import', async () => (await import('./commands/import.js')).importCommand],
  ['export', async () => (await import('./commands/export.js')).exportCommand],
  ['stats', async () => (await import('./commands/stats.js')).statsCommand],
  ['backup', async () => (await import('./commands/backup.js')).backupCommand],
  ['restore', async () => (await import('./commands/restore.js')).restoreCommand],
  ['serve', async () => (await import('./commands/serve.js')).serveCommand],
  ['model', async () => (await import('./commands/model.js')).modelCommand],
  ['train', async () => (await import('./commands/train.js')).trainCommand],
  ['generate', async () => (await import('./commands/generate.js')).generateCommand],
  ['logprobs', async () => (await import('./commands/logprobs.js')).logprobsCommand],
  ['compare', async () => (await import('./commands/compare.js')).compareCommand],
  ['demo', async () => (await import('./commands/demo.js')).demoCommand],
  ['label', async () => (await import('./commands/label.js')).labelCommand],
  ['bench', async () => (await import('./commands/bench.js')).benchCommand],
  ['delete', async () => (await import('./commands/delete.js')).deleteCommand],
];

async function help(): Promise<string> {
  const commands = await Promise.all(commandList.map(([, load]) => load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: rlhf-lab <command> [options]   (every command takes --json and --help)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit status: 0 ok, 2 bad input (the message names file, line and field), 1 failure at run time, 130 cancelled.',
  ].join('\n');
}

/** Runs one command line; returns the exit status. */
export async function main(argv: string[], io = createIO(argv.includes('--json'))): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    io.err(await help());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out({ commands: commandList.map(([n]) => n) }, await help());
    return 0;
  }
  const entry = commandList.find(([n]) => n === name);
  if (!entry) {
    io.err(`rlhf-lab: unknown command "${name}"\n${await help()}`);
    return 2;
  }
  const command = await entry[1]();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out({ usage: command.usage, summary: command.summary }, `usage: rlhf-lab ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof JobCancelled) {
      io.err(`rlhf-lab ${name}: cancelled`);
      return 130; // the shell's status for a command stopped by Ctrl-C
    }
    const bad = badInputMessage(e);
    if (bad !== null) {
      io.err(bad);
      return 2;
    }
    io.err(`rlhf-lab ${name}: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.RLHF_LAB_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
    return 1;
  }
}

/** The message for errors that mean the user's input is at fault, else null. */
function badInputMessage(e: unknown): string | null {
  if (e instanceof InputError || e instanceof NewerProjectError || e instanceof ProjectNotFoundError || e instanceof ProjectLocationError) return e.message;
  if (e instanceof NotAProjectError || e instanceof DamagedProjectError) return e.message;
  if (e instanceof SqliteError && (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CANTOPEN')) {
    return `not a project file (${e.message})`;
  }
  return null;
}
