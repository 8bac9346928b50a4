// The over-optimisation chart as a standalone SVG (hand-written, like the report page's curves: a
// charting library would need a browser): two panels sharing the x-axis √KL(π‖π_SFT) — the
// reward model's mean score and the gold rubric's mean score — with one line per β.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OveroptimizationReport } from './overoptimization.js';

const COLOURS = ['#d9485f', '#3b6fd8', '#2f9e6e', '#b07d12'];

function panel(report: OveroptimizationReport, key: 'rm' | 'gold', title: string, x0: number): string {
  const W = 380;
  const H = 260;
  const pad = { l: 52, r: 14, t: 30, b: 40 };
  const pts = report.curves.flatMap((c) => c.points);
  const xMax = Math.max(...pts.map((p) => p.sqrt_kl), 1e-6);
  let yMin = Math.min(...pts.map((p) => p[key]));
  let yMax = Math.max(...pts.map((p) => p[key]));
  const span = Math.max(yMax - yMin, 1e-6);
  yMin -= 0.08 * span;
  yMax += 0.08 * span;
  const sx = (x: number) => x0 + pad.l + (x / xMax) * (W - pad.l - pad.r);
  const sy = (y: number) => H - pad.b - ((y - yMin) / (yMax - yMin)) * (H - pad.t - pad.b);
  const out = [
    `<text x="${x0 + pad.l}" y="18" font-weight="bold">${title}</text>`,
    `<line x1="${x0 + pad.l}" y1="${H - pad.b}" x2="${x0 + W - pad.r}" y2="${H - pad.b}" stroke="#999"/>`,
    `<line x1="${x0 + pad.l}" y1="${pad.t}" x2="${x0 + pad.l}" y2="${H - pad.b}" stroke="#999"/>`,
    `<text x="${x0 + pad.l - 6}" y="${sy(yMax) + 4}" text-anchor="end">${yMax.toFixed(2)}</text>`,
    `<text x="${x0 + pad.l - 6}" y="${sy(yMin) + 4}" text-anchor="end">${yMin.toFixed(2)}</text>`,
    `<text x="${x0 + pad.l}" y="${H - pad.b + 16}" text-anchor="middle">0</text>`,
    `<text x="${x0 + W - pad.r}" y="${H - pad.b + 16}" text-anchor="middle">${xMax.toFixed(2)}</text>`,
    `<text x="${x0 + (W + pad.l - pad.r) / 2}" y="${H - 8}" text-anchor="middle">√KL(π ‖ π_SFT), nats^½ per reply</text>`,
  ];
  report.curves.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const line = c.points.map((p) => `${sx(p.sqrt_kl).toFixed(1)},${sy(p[key]).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${line}"/>`);
    for (const p of c.points) out.push(`<circle cx="${sx(p.sqrt_kl).toFixed(1)}" cy="${sy(p[key]).toFixed(1)}" r="3" fill="${colour}"><title>step ${p.step}: ${p[key].toFixed(3)}</title></circle>`);
  });
  return out.join('\n');
}

export function overoptimizationSvg(report: OveroptimizationReport): string {
  const W = 780;
  const H = 300;
  const legend = report.curves.map(
    (c, i) =>
      `<rect x="${60 + i * 170}" y="${H - 22}" width="14" height="4" fill="${COLOURS[i % COLOURS.length]}"/>` +
      `<text x="${80 + i * 170}" y="${H - 16}">PPO, β = ${c.kl_coef}${c.kl_coef === 0 ? ' (no KL penalty)' : ''}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    panel(report, 'rm', 'Reward model score (what PPO maximises)', 0),
    panel(report, 'gold', 'Gold score (the rubric, never seen by PPO)', 390),
    ...legend,
    '</svg>',
  ].join('\n');
}

/** Writes overoptimization.svg and overoptimization.json into `dir`; returns the SVG's path. */
export function writeOveroptimizationChart(dir: string, report: OveroptimizationReport): string {
  const path = join(dir, 'overoptimization.svg');
  writeFileSync(path, overoptimizationSvg(report));
  writeFileSync(join(dir, 'overoptimization.json'), JSON.stringify(report, null, 2));
  return path;
}
