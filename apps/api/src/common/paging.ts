import { CordonException } from './cordon.exception.js';
import { uuid } from './validate.js';

/** Largest page any list query returns. */
export const MAX_PAGE = 500;

/** `first` of a paged query: 1 to `max`, `fallback` when absent. */
export function pageSize(first: number | null | undefined, max = MAX_PAGE, fallback = 50): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw CordonException.badInput('first', `must be 1 to ${max}`);
  return size;
}

/**
 * Opaque Relay cursor over (a timestamp in microseconds, id) — microseconds because timestamptz
 * keeps them and a JavaScript Date does not. `kind` keeps one query's cursor out of another.
 */
export function encodeCursor(kind: string, micros: string, id: string): string {
  return Buffer.from(JSON.stringify([kind, micros, id])).toString('base64url');
}

export function decodeCursor(kind: string, cursor: string): { micros: string; id: string } {
  try {
    const [tag, micros, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (tag !== kind || typeof micros !== 'string' || !/^\d{1,18}$/.test(micros) || typeof id !== 'string') throw new Error('bad');
    return { micros, id: uuid('after', id) };
  } catch {
    throw CordonException.badInput('after', 'is not a cursor returned by this query');
  }
}
