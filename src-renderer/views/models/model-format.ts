// How the Models view writes sizes and counts: "1.4 GB", "135.0M".

/** Bytes in decimal units, as the Hub and file managers show them. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** Parameter counts: 135.0M, 12.3k. */
export function compactCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** hf:OWNER/NAME@<40-hex commit> shortened to hf:OWNER/NAME@abc1234; anything else as is. */
export function shortSource(s: string): string {
  return s.replace(/@([0-9a-f]{7})[0-9a-f]{33}$/, '@$1');
}
