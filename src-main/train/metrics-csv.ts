// A run's metrics as one wide CSV: a row per step, a column per key (what spreadsheets and
// pandas expect), plus the wall time of the step.
import type { MetricPoint } from '../store/runs.js';

function cell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function metricsCsv(series: Record<string, MetricPoint[]>): { text: string; rows: number } {
  const keys = Object.keys(series).sort();
  const byStep = new Map<number, { time: number; values: Map<string, number> }>();
  for (const key of keys) {
    for (const p of series[key]!) {
      const row = byStep.get(p.step) ?? { time: p.time, values: new Map<string, number>() };
      row.time = Math.max(row.time, p.time);
      row.values.set(key, p.value);
      byStep.set(p.step, row);
    }
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const lines = [['step', 'time', ...keys].map(cell).join(',')];
  for (const step of steps) {
    const row = byStep.get(step)!;
    lines.push([String(step), new Date(row.time).toISOString(), ...keys.map((k) => (row.values.has(k) ? String(row.values.get(k)) : ''))].join(','));
  }
  return { text: lines.join('\n') + '\n', rows: steps.length };
}
