// Bad input in a data file: names the file, the line and, where there is one, the field,
// e.g. `data.jsonl:3: "chosen" is missing`. An InputError, so the CLI exits with status 2.
import { InputError } from '../shared/errors.js';

export class DataError extends InputError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(line === null ? `${file}: ${detail}` : `${file}:${line}: ${detail}`);
  }
}
