import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether two secrets are equal, in constant time (hashing first evens the lengths). */
export function sameSecret(sent: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(sent), digest(expected));
}
