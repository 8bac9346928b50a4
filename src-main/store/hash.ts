// Content hashes that make re-imports idempotent (duplicate prompts, SFT records, imported rankings).
import { createHash } from 'node:crypto';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A hash of several strings that cannot collide by moving text between the parts. */
export function hashParts(...parts: string[]): string {
  return sha256(JSON.stringify(parts));
}
