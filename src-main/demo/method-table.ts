// The demo's RL methods side by side with the best-of-N baselines: one row per method and seed,
// as the CLI prints it, `--json` carries it (`table`) and the report page shows it.
// The app's demo panel shows the same rows (api/handlers/demo.ts), so the row is the contract's.
import type { DemoMethodRow } from '../shared/contract.js';
import type { DemoReport } from './pipeline.js';
import { RL_METHODS, type RlMethod } from './rl-phase.js';

export type MethodRow = DemoMethodRow;

export function methodRows(r: Pick<DemoReport, 'seed' | 'methods' | 'compare'>): MethodRow[] {
  return [
    ...r.methods.map((m) => ({
      seed: r.seed,
      method: m.method,
      win_rate: m.gold.win_rate,
      ci_low: m.gold.ci_low,
      ci_high: m.gold.ci_high,
      mean_gold: m.gold.mean_gold,
      kl: m.kl,
      peak_rss_mb: m.peak_rss_mb,
      seconds: m.seconds,
    })),
    ...r.compare.best_of_n.map((b) => ({
      seed: r.seed,
      method: `best-of-${b.n}` as const,
      win_rate: b.win_rate,
      ci_low: b.ci_low,
      ci_high: b.ci_high,
      mean_gold: b.mean_gold,
      kl: null,
      peak_rss_mb: null,
      seconds: null,
    })),
  ];
}

/** `ppo,rloo,grpo` → the methods, in the given order, each once. */
export function parseRlMethods(text: string): RlMethod[] {
  const names = text.split(',').map((x) => x.trim().toLowerCase());
  const bad = names.find((x) => !(RL_METHODS as readonly string[]).includes(x));
  if (bad !== undefined) throw new Error(`"${bad}" is not an RL method: give one or more of ${RL_METHODS.join(', ')}, separated by commas`);
  if (new Set(names).size !== names.length) throw new Error(`"${text}" names a method twice`);
  return names as RlMethod[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The rows as aligned text columns. */
export function formatMethodRows(rows: MethodRow[]): string {
  const cells = rows.map((x) => [
    String(x.seed),
    x.method.toUpperCase().replace('BEST-OF-', 'best-of-'),
    `${pct(x.win_rate)} [${pct(x.ci_low)}, ${pct(x.ci_high)}]`,
    x.mean_gold === null ? '–' : x.mean_gold.toFixed(2),
    x.kl === null ? '–' : x.kl.toFixed(3),
    x.peak_rss_mb === null ? '–' : `${x.peak_rss_mb} MiB`,
    x.seconds === null ? '–' : `${x.seconds.toFixed(0)} s`,
  ]);
  const head = ['seed', 'method', 'gold win over SFT [95% CI]', 'gold mean', 'KL/token', 'peak RSS', 'RL seconds'];
  const width = head.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j]!.length)));
  return [head, ...cells].map((c) => c.map((v, j) => v.padEnd(width[j]!)).join('  ').trimEnd()).join('\n');
}
