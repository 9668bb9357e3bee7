/** Constant-time comparison of secrets given as strings (tokens, static passwords). */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time string equality: both sides are hashed first, so unequal lengths neither leak nor throw. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
