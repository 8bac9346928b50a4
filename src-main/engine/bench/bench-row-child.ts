// One bench row in a process of its own (engine/bench/bench.ts runEngineRow): reads
// {size, row, seed, backend} as JSON on stdin, runs the row on that backend and prints
// {rate, profiles, peak_rss_mb} as its last stdout line. The peak RSS is this process's whole
// life — Node, tfjs and the row's models, replica threads included — and nothing else.
import { initBackend } from '../backend/backend.js';
import type { Backend } from '../../shared/vocabulary.js';
import { runBenchRow } from './bench-rows.js';
import type { BenchRowName, BenchSize } from './bench.js';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const job = JSON.parse(Buffer.concat(chunks).toString()) as { size: BenchSize; row: BenchRowName; seed: number; backend: Backend };
await initBackend(job.backend);
const { rate, profiles } = await runBenchRow(job.size, job.row, job.seed);
process.stdout.write(`\n${JSON.stringify({ rate, profiles, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
// Replica workers or timers may linger; the row is done.
process.exit(0);
