// The errors every layer may throw and every front end (API, CLI) turns into its own answer:
// the API router into `{ ok: false, error }`, the CLI into an exit status.

/** An error the user can act on; `code` is stable for tests and the UI (the API answers with it). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly code = 'bad_request',
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Bad input given to the CLI (an argument, a data file): exit status 2, one message naming file, line and field. */
export class InputError extends Error {}

/** Thrown (or returned as failure) when a job stops because its signal was aborted. */
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}
