import { CordonException } from './cordon.exception.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Control characters and lone surrogates (not UTF-8; RFC 8785 refuses them in the audit event). */
const CONTROL = /[\p{Cc}\p{Cs}]/u;

/** A free-text argument (reason, note): trimmed, within bounds, no control characters. */
export function text(field: string, value: string, max = 1000, min = 1): string {
  const trimmed = value.trim();
  if (trimmed.length < min) throw CordonException.badInput(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  if (trimmed.length > max) throw CordonException.badInput(field, `must be at most ${max} characters`);
  if (CONTROL.test(trimmed.replace(/[\n\t]/g, ''))) {
    throw CordonException.badInput(field, /\p{Cs}/u.test(trimmed) ? 'must not contain unpaired surrogates' : 'must not contain control characters');
  }
  return trimmed;
}

export function optionalText(field: string, value: string | null | undefined, max = 1000): string | null {
  return value == null || value.trim() === '' ? null : text(field, value, max);
}

/** An id argument: a UUID, lower-cased. */
export function uuid(field: string, value: string): string {
  if (!UUID.test(value)) throw CordonException.badInput(field, 'must be a UUID');
  return value.toLowerCase();
}

/** PostgreSQL unique violation on the named index. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const pg = e.driverError ?? e;
  return pg.code === '23505' && pg.constraint === constraint;
}

/** TypeORM's query() answers UPDATE/DELETE … RETURNING with `[rows, rowCount]`, everything else with the rows. */
export function updatedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
