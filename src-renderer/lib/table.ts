// Column description shared by DataTable and the views that use it.
export interface Column<Row> {
  id: string;
  label: string;
  cell: (row: Row) => string;
  /** CSS width, e.g. '80px' or '30%'. */
  width?: string;
  numeric?: boolean;
}

/** One line of a long text, for table cells (full text shows when the row is opened). */
export function oneLine(text: string | null | undefined, max = 300): string {
  if (!text) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
