// How the New run form words a field's rules and values. Each field's label, help line and group
// come with it from the stage catalogue (src-main/train/stages.ts, through train.stages).
import type { ConfigField } from '../../src-main/shared/contract.js';

export type { FieldGroup } from '../../src-main/shared/contract.js';

/** What a field accepts, in words: "a whole number from 1 to 512", "a number above 0", "on or off". */
export function allowed(field: ConfigField): string {
  if (field.type === 'boolean') return 'on or off';
  if (field.type === 'enum') return `one of ${(field.options ?? []).join(', ')}`;
  const kind = field.type === 'integer' ? 'a whole number' : 'a number';
  const n = (x: number) => formatNumber(x);
  const lo = field.minimum !== undefined ? `from ${n(field.minimum)}` : field.exclusiveMinimum !== undefined ? `above ${n(field.exclusiveMinimum)}` : '';
  if (field.maximum !== undefined) return lo ? `${kind} ${lo} to ${n(field.maximum)}` : `${kind} up to ${n(field.maximum)}`;
  return lo ? `${kind} ${lo}` : kind;
}

/** 10000 → "10,000"; small and fractional numbers as they are (1e-5 stays 1e-5). */
export function formatNumber(x: number): string {
  return Number.isInteger(x) && Math.abs(x) >= 1000 ? x.toLocaleString('en-US') : String(x);
}
