// The demo's report page: a Markdown file with the headline numbers, one small SVG chart per curve
// and the side-by-side examples, written next to the project in `rlhf-lab demo --out DIR`.
// The charts are plain SVG polylines (hand-written: a charting library would need a browser).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { methodRows } from './method-table.js';
import type { DemoReport } from './pipeline.js';

function svgChart(title: string, points: { step: number; value: number }[]): string {
  const W = 360;
  const H = 180;
  const pad = { l: 48, r: 12, t: 24, b: 28 };
  const xs = points.map((p) => p.step);
  const ys = points.map((p) => p.value);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number) => pad.l + ((x - x0) / Math.max(x1 - x0, 1)) * (W - pad.l - pad.r);
  const sy = (y: number) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const line = points.map((p) => `${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join(' ');
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad.l}" y="15" font-weight="bold">${title}</text>`,
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#999"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#999"/>`,
    `<text x="${pad.l - 4}" y="${sy(y1) + 4}" text-anchor="end">${fmt(y1)}</text>`,
    `<text x="${pad.l - 4}" y="${sy(y0) + 4}" text-anchor="end">${fmt(y0)}</text>`,
    `<text x="${pad.l}" y="${H - 10}">step ${x0}</text>`,
    `<text x="${W - pad.r}" y="${H - 10}" text-anchor="end">${x1}</text>`,
    `<polyline fill="none" stroke="#4f7cff" stroke-width="1.5" points="${line}"/>`,
    '</svg>',
  ].join('\n');
}

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null, d = 3) => (x === null ? '–' : x.toFixed(d));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Writes report.md and curve-*.svg into `dir`; returns the page's path. */
export function writeReportPage(dir: string, r: DemoReport): string {
  const charts: string[] = [];
  for (const [name, points] of Object.entries(r.curves)) {
    if (points.length < 2) continue;
    const file = `curve-${name.replace(/[^a-z0-9]+/gi, '-')}.svg`;
    writeFileSync(join(dir, file), svgChart(name, points));
    charts.push(`![${name}](${file})`);
  }
  const g = r.compare.gold;
  const m = r.compare.rm;
  const s = r.stages;
  const lines = [
    '# RLHF Lab demo report',
    '',
    `Seed ${r.seed}${r.quick ? ' (quick)' : ''}, backend ${r.backend}, ${r.seconds.toFixed(0)} s in all. ` +
      'Rankings by simulated annotators (the rubric in GUIDELINES.md with per-annotator noise); the gold judge is the noiseless rubric, which the policy never saw.',
    '',
    '## Headline',
    '',
    `**The ${r.methods[0]?.method.toUpperCase() ?? 'RLHF'} model beats the SFT model on ${g.n} held-out prompts by the gold judge: win rate ${pct(g.win_rate)} ` +
      `(95% bootstrap interval ${pct(g.ci_low)}–${pct(g.ci_high)}; ${g.wins} wins, ${g.ties} ties, ${g.losses} losses).**`,
    '',
    '| stage | figure |',
    '|---|---|',
    `| SFT | eval loss ${num(s.sft.eval_loss)} (${s.sft.seconds.toFixed(0)} s) |`,
    `| simulated labels | ${s.labels.items} items, ${s.labels.rankings} rankings, ${s.labels.mean_distinct.toFixed(1)} distinct samples per prompt (${s.labels.seconds.toFixed(0)} s) |`,
    `| reward model | held-out pair accuracy ${pct(s.rm.eval_accuracy)} (${s.rm.seconds.toFixed(0)} s) |`,
    ...(s.ppo
      ? [`| PPO | reward-model score ${num(s.ppo.mean_score_start, 2)} → ${num(s.ppo.mean_score_end, 2)}, KL ${num(s.ppo.kl, 2)} nats (bound ${s.ppo.kl_bound}) (${s.ppo.seconds.toFixed(0)} s) |`]
      : []),
    ...r.methods
      .filter((x) => x.method !== 'ppo')
      .map((x) => `| ${x.method.toUpperCase()} | reward-model score ${num(x.score_start, 2)} → ${num(x.score_end, 2)} (${x.seconds.toFixed(0)} s) |`),
    `| compare, gold judge | ${pct(g.win_rate)} [${pct(g.ci_low)}, ${pct(g.ci_high)}]; mean gold score SFT ${num(g.mean_score_sft, 2)} → RLHF ${num(g.mean_score_rlhf, 2)} |`,
    `| compare, reward model | ${pct(m.win_rate)} [${pct(m.ci_low)}, ${pct(m.ci_high)}] |`,
    ...r.compare.best_of_n.map(
      (b) =>
        `| best-of-${b.n} from SFT (baseline), gold judge | ${pct(b.win_rate)} [${pct(b.ci_low)}, ${pct(b.ci_high)}] over SFT; mean gold score ${num(b.mean_gold, 2)} (PPO ${num(g.mean_score_rlhf, 2)}) |`,
    ),
    `| length (words) | SFT ${g.mean_len_sft.toFixed(1)}, RLHF ${g.mean_len_rlhf.toFixed(1)}; KL of RLHF to SFT ${num(g.mean_kl_b)} nats/token |`,
    '',
    '## RL methods side by side',
    '',
    'Each method trained from the same SFT model against the same reward model, in a process of its own (its peak resident memory alone); ' +
      'gold-judged against the same SFT replies as best-of-N. KL: nats per response token to SFT on the judged prompts.',
    '',
    '| method | gold win over SFT [95% CI] | gold mean | KL/token | peak RSS | RL seconds |',
    '|---|---|---|---|---|---|',
    ...methodRows(r).map(
      (x) =>
        `| ${x.method.startsWith('best-of') ? `${x.method} (baseline)` : x.method.toUpperCase()} | ${pct(x.win_rate)} [${pct(x.ci_low)}, ${pct(x.ci_high)}] | ${num(x.mean_gold, 2)} | ${num(x.kl)} | ${x.peak_rss_mb === null ? '–' : `${x.peak_rss_mb} MiB`} | ${x.seconds === null ? '–' : x.seconds.toFixed(0)} |`,
    ),
    '',
    '## Curves',
    '',
    charts.join(' '),
    '',
    `## Side by side (${r.judged_on === 'eval' ? 'held-out' : 'validation'} prompts)`,
    '',
    'Drawn at random from the judged prompts: wins, ties and losses as they come.',
    '',
    '| prompt | SFT | RLHF |',
    '|---|---|---|',
    ...r.examples.map((e) => `| ${cell(e.prompt)} | ${cell(e.sft)} (gold ${e.gold_sft.toFixed(1)}) | ${cell(e.rlhf)} (gold ${e.gold_rlhf.toFixed(1)}) |`),
    '',
    `Project: \`${r.project}\` — open it in RLHF Lab to browse the runs, the label task and the comparison.`,
    '',
  ];
  const path = join(dir, 'report.md');
  writeFileSync(path, lines.join('\n'));
  return path;
}
