import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { requestLoader } from '../../common/request-loader.js';
import { MemberEntity } from '../members/member.entity.js';
import { INDICATOR_COLUMNS, type IndicatorRow, indicatorVisible } from '../indicators/indicator.rows.js';

/**
 * The indicator, if the caller may see it, read inside the transaction (optionally locked).
 * An invisible indicator answers exactly as an absent one: `<field>: indicator not found`.
 */
export async function visibleIndicator(
  em: EntityManager,
  caller: Caller,
  id: string,
  field: string,
  lock: '' | 'FOR UPDATE' | 'FOR SHARE' = '',
): Promise<IndicatorRow> {
  const params: unknown[] = [id];
  const visible = indicatorVisible(caller, params);
  const [row] = (await em.query(`SELECT ${INDICATOR_COLUMNS} FROM indicator i WHERE i.id = $1 AND ${visible} ${lock}`, params)) as IndicatorRow[];
  if (!row) throw CordonException.notFound('indicator', field);
  return row;
}

/** Members by id for one request (the member directory is readable by every principal). */
export function memberLoader(req: object, dataSource: DataSource) {
  return requestLoader<string, MemberEntity | undefined>(req, 'disputes:members', async (ids) => {
    const rows = await dataSource.getRepository(MemberEntity).findBy({ id: In([...ids]) });
    const byId = new Map(rows.map((m) => [m.id, m]));
    return ids.map((id) => byId.get(id));
  });
}

/** TypeORM's query() answers UPDATE/DELETE … RETURNING with `[rows, rowCount]`, everything else with the rows. */
export function updatedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
