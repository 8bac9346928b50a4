// The CommandIO every command writes through: one JSON object (with --json) or human text on
// stdout; progress on stderr, as a redrawn bar when stderr is a terminal, else as plain lines.
import type { CommandIO } from './command.js';

export interface StreamLike {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Plain-line progress is printed at most this often, so logs of long jobs stay readable. */
const PLAIN_INTERVAL_MS = 2000;

export function createIO(json: boolean, stdout: StreamLike = process.stdout, stderr: StreamLike = process.stderr): CommandIO {
  let lastPlain = 0;
  let barOpen = false;
  const endBar = () => {
    if (barOpen) stderr.write('\n');
    barOpen = false;
  };
  return {
    json,
    out(value, human) {
      endBar();
      if (json) stdout.write(`${JSON.stringify(value)}\n`);
      else stdout.write(`${human ?? (typeof value === 'string' ? value : JSON.stringify(value, null, 2))}\n`);
    },
    progress(done, total, unit, message) {
      const finished = total > 0 && done >= total;
      const text = `${formatAmount(done, unit)}${total > 0 ? ` / ${formatAmount(total, unit)}` : ''}${message ? `  ${message}` : ''}`;
      if (stderr.isTTY) {
        const width = 30;
        const fraction = total > 0 ? Math.min(1, done / total) : 0;
        const filled = Math.round(fraction * width);
        const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
        const line = `${bar} ${text}`.slice(0, Math.max(20, (stderr.columns ?? 80) - 1));
        stderr.write(`\r\x1b[2K${line}`);
        barOpen = true;
        if (finished) endBar();
        return;
      }
      const now = Date.now();
      if (!finished && now - lastPlain < PLAIN_INTERVAL_MS) return;
      lastPlain = now;
      const percent = total > 0 ? `${((100 * done) / total).toFixed(0)}% ` : '';
      stderr.write(`${percent}${text}\n`);
    },
    err(message) {
      endBar();
      stderr.write(`${message}\n`);
    },
  };
}

function formatAmount(n: number, unit: string): string {
  if (unit === 'bytes') {
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
    if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} kB`;
    return `${n} B`;
  }
  return `${n} ${unit}`;
}
