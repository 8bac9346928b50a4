// The shape of one `rlhf-lab` sub-command (CLI.md). Each lives in cli/commands/<name>.ts and is
// listed in cli/index.ts.
export interface CommandIO {
  json: boolean;
  /** Print the one JSON object (with --json) or human text on stdout. */
  out(value: unknown, human?: string): void;
  /** Progress and messages on stderr (a bar when stderr is a terminal). */
  progress(done: number, total: number, unit: string, message?: string): void;
  err(message: string): void;
}

export interface Command {
  name: string;
  /** e.g. "import <project> <file> --as prompts|sft|preferences|rankings [--split train|eval]" */
  usage: string;
  summary: string;
  /** Returns the exit status: 0 ok, 2 bad input (throw InputError), 1 run-time failure. */
  run(argv: string[], io: CommandIO): Promise<number>;
}
