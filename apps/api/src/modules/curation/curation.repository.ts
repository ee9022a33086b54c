import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import { INDICATOR_COLUMNS, type IndicatorRow, indicatorVisible } from '../indicators/indicator.rows.js';

export type QueueRow = IndicatorRow & { created_us: string };

/** Curators' reads, with visibility in the WHERE clause like every indicator read. */
@Injectable()
export class CurationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** PENDING indicators, oldest first by (created_at, id); index indicator_status_created_idx. */
  async pending(caller: Caller, first: number, after?: { micros: string; id: string }): Promise<QueueRow[]> {
    const params: unknown[] = [IndicatorStatus.PENDING];
    const where = ['i.status = $1', indicatorVisible(caller, params)];
    if (after) {
      // Microsecond-exact: timestamptz keeps microseconds, a JavaScript Date only milliseconds.
      params.push(after.micros, after.id);
      where.push(`(i.created_at, i.id) > ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`);
    }
    params.push(first + 1);
    return (await this.dataSource.query(
      `SELECT ${INDICATOR_COLUMNS}, (extract(epoch FROM i.created_at) * 1000000)::bigint::text AS created_us
         FROM indicator i WHERE ${where.join(' AND ')} ORDER BY i.created_at, i.id LIMIT $${params.length}`,
      params,
    )) as QueueRow[];
  }
}
