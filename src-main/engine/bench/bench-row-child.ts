// One bench row in a process of its own (engine/bench/bench.ts runEngineRow): reads
// {size, row, seed, backend} as JSON on stdin, runs the row on that backend and prints
// {rate, profiles, peak_rss_mb} as its last stdout line. The peak RSS is this process's whole
// life — Node, tfjs and the row's models, replica threads included — and nothing else.
import { initBackend } from '../backend/backend.js';
import type { Backend } from '../../shared/vocabulary.js';
import { runBenchRow } from './bench-rows.js';
import type { BenchRowName, BenchSize } from './bench.js';

/** The failure as one line on stderr (runEngineRow reports it), then exit 1. */
function fail(e: unknown): never {
  const message = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  process.stderr.write(`\nbench row failed: ${message.replace(/\s+/g, ' ').trim()}\n`);
  process.exit(1);
}
// Before the backend loads: tfjs-wasm adds a listener that rethrows (exit 7, a stack trace).
// A replica worker's failure (e.g. its wasm heap exhausted: "Aborted()") arrives this way too.
process.on('uncaughtException', fail);

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const job = JSON.parse(Buffer.concat(chunks).toString()) as { size: BenchSize; row: BenchRowName; seed: number; backend: Backend };
let result: Awaited<ReturnType<typeof runBenchRow>>;
try {
  await initBackend(job.backend);
  result = await runBenchRow(job.size, job.row, job.seed);
} catch (e) {
  fail(e);
}
const { rate, profiles } = result;
process.stdout.write(`\n${JSON.stringify({ rate, profiles, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
// Replica workers or timers may linger; the row is done.
process.exit(0);
