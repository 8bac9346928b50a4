// Word-level differences between two texts, for the Train view's step-to-step sample diff and
// Compare's side-by-side columns (jsdiff's diffWords does the work).
import { diffWords } from 'diff';

export interface DiffPart {
  text: string;
  kind: 'same' | 'added' | 'removed';
}

export function wordDiff(before: string, after: string): DiffPart[] {
  return diffWords(before, after).map((c) => ({ text: c.value, kind: c.added ? 'added' : c.removed ? 'removed' : 'same' }));
}
