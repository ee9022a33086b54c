/**
 * Size arithmetic. Tree sizes and leaf indexes are JS numbers up to 2^53 - 1, so nothing here uses the
 * 32-bit bit operators (`|`, `>>`, `<<`, `&`): they would silently wrap above 2^31.
 */

export function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function assertSize(n: unknown, what: string): asserts n is number {
  if (!isSize(n)) throw new RangeError(`${what} must be a non-negative safe integer, got ${String(n)}`);
}

/** The RFC 9162 split point k: the largest power of two smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The smallest power of two >= n (n >= 1). */
export function bitCeil(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

/** Number of set bits of n: the number of perfect subtrees on the right edge of a tree of size n. */
export function popcount(n: number): number {
  let count = 0;
  while (n > 0) {
    if (n % 2 === 1) {
      count++;
      n = (n - 1) / 2;
    } else {
      n /= 2;
    }
  }
  return count;
}
