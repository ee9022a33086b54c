import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { decodeCursor, encodeCursor, pageSize } from '../../common/paging.js';
import { indicatorVisible } from '../indicators/indicator.rows.js';

export interface ChangeRow {
  idx: string;
  indicator_id: string;
  change: string;
  status: string;
  at: Date;
}

/**
 * The change feed (SPEC 7 `changes`): every change of an indicator the caller can see, ordered by
 * the audit index of its transaction — gapless and committed in order, so a cursor never skips a
 * change and stays valid across restarts. Nothing is ever removed: a revocation a year old is
 * still there for a member that comes back.
 */
@Injectable()
export class ChangesService {
  constructor(private readonly dataSource: DataSource) {}

  async page(caller: Caller, first: number | null | undefined, after: string | null | undefined): Promise<{ rows: ChangeRow[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    const params: unknown[] = [];
    const where = [indicatorVisible(caller, params)];
    if (after) {
      const cursor = decodeCursor('changes', after);
      params.push(cursor.micros, cursor.id);
      where.push(`(c.idx, c.indicator_id) > ($${params.length - 1}::bigint, $${params.length}::uuid)`);
    }
    params.push(size + 1);
    const rows = (await this.dataSource.query(
      `SELECT c.idx::text AS idx, c.indicator_id, c.change, c.status, c.at
         FROM indicator_change c JOIN indicator i ON i.id = c.indicator_id
        WHERE ${where.join(' AND ')}
        ORDER BY c.idx, c.indicator_id LIMIT $${params.length}`,
      params,
    )) as ChangeRow[];
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }

  /** A cursor at the newest change (for a subscriber that starts now), or undefined when none. */
  async latestCursor(): Promise<string | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT idx::text AS idx, indicator_id FROM indicator_change ORDER BY idx DESC, indicator_id DESC LIMIT 1`,
    )) as { idx: string; indicator_id: string }[];
    return row ? encodeCursor('changes', row.idx, row.indicator_id) : undefined;
  }
}

