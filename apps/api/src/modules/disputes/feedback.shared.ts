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
