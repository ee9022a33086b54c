import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import { requestLoader } from '../../common/request-loader.js';
import { MemberEntity } from '../members/member.entity.js';

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
