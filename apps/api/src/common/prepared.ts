import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** Names of the statements prepared so far, by their text (a few call sites: bounded anyway). */
const names = new Map<string, string>();
const MAX_NAMES = 200;

/**
 * Runs a statement of constant text (values only in parameters) as a named prepared statement on
 * the data source's pool: PostgreSQL parses and plans it once per connection instead of on every
 * call. For the statements run thousands of times a second (screening's grouped audit-and-lookup,
 * its batch lookup, a lone audit event); outside any transaction (a statement of its own).
 */
export async function preparedQuery<T>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMES) {
    name = `cordon_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}

/** A runner (`query(text, values)`) whose statements are prepared: see preparedQuery. */
export function preparedRunner(dataSource: DataSource): { query: (text: string, values: unknown[]) => Promise<unknown[]> } {
  return { query: (text, values) => preparedQuery(dataSource, text, values) };
}
