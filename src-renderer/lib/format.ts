// Small display helpers shared by the views (pure, unit-tested).

const intFormat = new Intl.NumberFormat('en-US');

export function formatInt(n: number): string {
  return intFormat.format(n);
}

/** "1–50 of 100,000", or "No rows" for an empty result. */
export function rangeLabel(offset: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return total === 0 ? 'No rows' : `0 of ${formatInt(total)}`;
  return `${formatInt(offset + 1)}–${formatInt(offset + shown)} of ${formatInt(total)}`;
}

export function pageCount(total: number, limit: number): number {
  return Math.max(1, Math.ceil(total / limit));
}

/** The offset of the page that contains `offset`, kept inside [0, last page]. */
export function clampOffset(offset: number, limit: number, total: number): number {
  const last = (pageCount(total, limit) - 1) * limit;
  return Math.min(Math.max(0, Math.floor(offset / limit) * limit), last);
}

export function percent(done: number, total: number): number | null {
  if (!(total > 0)) return null;
  return Math.min(100, Math.max(0, (done / total) * 100));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** "1.0 / 20.6 MB" for bytes, "1,200 / 5,000 lines" for anything counted. */
export function formatProgress(done: number, total: number, unit: string): string {
  if (unit === 'bytes') {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    return `${mb(done)} / ${mb(total)} MB`;
  }
  return `${formatInt(done)} / ${formatInt(total)} ${unit}`;
}
