// A large import streams with bounded memory (issue 2: "a 200 MB file"). Writes a JSONL file of
// preference records (default 200 MB) to a temp dir, imports it, and prints wall time, CPU
// time, records/s and peak RSS. Run: npx tsx bench/import-large.ts [megabytes]
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { importData } from '../src-main/data/import.js';
import { Project } from '../src-main/store/project.js';

const megabytes = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'rlhf-import-large-'));
try {
  const file = join(dir, 'large.jsonl');
  const out = createWriteStream(file);
  const filler = 'This is a longer answer that goes on for a while so that records look like real data. '.repeat(6);
  let bytes = 0;
  let n = 0;
  while (bytes < megabytes * 1024 * 1024) {
    const line = JSON.stringify({ prompt: `Question ${n}: ${filler.slice(0, 120)}`, chosen: `${filler} (good ${n})`, rejected: `${filler} (bad ${n})` }) + '\n';
    bytes += Buffer.byteLength(line);
    n++;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const rssBefore = process.memoryUsage().rss;
  const project = Project.open(join(dir, 'p.rlhf'), { create: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await importData(project, { name: file, path: file }, 'preferences');
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  project.close();
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      file_mb: +(statSync(file).size / 2 ** 20).toFixed(1),
      records: n,
      imported: result.imported,
      wall_s: +wall.toFixed(1),
      cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      records_per_s: Math.round(n / wall),
      rss_before_mb: Math.round(rssBefore / 2 ** 20),
      peak_rss_mb: Math.round(peakMb),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
