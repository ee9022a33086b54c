import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { INDICATOR_COLUMNS, type IndicatorRow, indicatorVisible, type StatementRow, statementVisible } from './indicator.rows.js';

export interface IndicatorFilterValues {
  kind?: string;
  status?: string;
  network?: string;
  memberId?: string;
  updatedSince?: Date;
}

export interface SiteRow {
  indicator_id: string;
  fingerprint: string;
  url: string;
}

/** Every indicator read, with visibility in the WHERE clause (never a filter after the fact). */
@Injectable()
export class IndicatorsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findVisible(caller: Caller, ids: readonly string[]): Promise<IndicatorRow[]> {
    const params: unknown[] = [ids];
    const visible = indicatorVisible(caller, params);
    return (await this.dataSource.query(
      `SELECT ${INDICATOR_COLUMNS} FROM indicator i WHERE i.id = ANY($1::uuid[]) AND ${visible}`,
      params,
    )) as IndicatorRow[];
  }

  /** Relay page ordered by (updated_at, id): a client can follow changes with updatedSince. */
  async list(caller: Caller, filter: IndicatorFilterValues, first: number, after?: { updatedUs: string; id: string }): Promise<(IndicatorRow & { updated_us: string })[]> {
    const params: unknown[] = [];
    const where = [indicatorVisible(caller, params)];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (filter.kind) add((n) => `i.kind = $${n}`, filter.kind);
    if (filter.status) add((n) => `i.status = $${n}`, filter.status);
    if (filter.network !== undefined) add((n) => `i.network = $${n}`, filter.network);
    if (filter.updatedSince) add((n) => `i.updated_at >= $${n}`, filter.updatedSince);
    if (filter.memberId) {
      // Indicators the member attested with a statement the caller may see.
      add(
        (n) => `EXISTS (SELECT 1 FROM statement s WHERE s.indicator_id = i.id AND s.issuer_member_id = $${n}::uuid AND ${statementVisible(caller, params)})`,
        filter.memberId,
      );
    }
    if (after) {
      // Microsecond-exact: timestamptz keeps microseconds, a JavaScript Date only milliseconds.
      params.push(after.updatedUs, after.id);
      where.push(`(i.updated_at, i.id) > ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`);
    }
    params.push(first + 1);
    return (await this.dataSource.query(
      `SELECT ${INDICATOR_COLUMNS}, (extract(epoch FROM i.updated_at) * 1000000)::bigint::text AS updated_us
         FROM indicator i WHERE ${where.join(' AND ')} ORDER BY i.updated_at, i.id LIMIT $${params.length}`,
      params,
    )) as (IndicatorRow & { updated_us: string })[];
  }

  /** The statements of these indicators that the caller may see, oldest first. */
  async statements(caller: Caller, indicatorIds: readonly string[]): Promise<StatementRow[]> {
    const params: unknown[] = [indicatorIds];
    const visible = statementVisible(caller, params);
    return (await this.dataSource.query(
      `SELECT s.id, s.indicator_id, s.issuer_principal_id, s.issuer_member_id, s.kid, s.jti, s.jws, s.sha256, s.issued_at,
              s.expires_at, s.category, s.confidence, s.tlp, s.share_with, s.received_at, r.receipt, r.audit_index
         FROM statement s JOIN statement_receipt r ON r.statement_id = s.id WHERE s.indicator_id = ANY($1::uuid[]) AND ${visible}
        ORDER BY s.received_at, s.id`,
      params,
    )) as StatementRow[];
  }

  async statementsById(caller: Caller, ids: readonly string[]): Promise<StatementRow[]> {
    const params: unknown[] = [ids];
    const visible = statementVisible(caller, params);
    return (await this.dataSource.query(
      `SELECT s.id, s.indicator_id, s.issuer_principal_id, s.issuer_member_id, s.kid, s.jti, s.jws, s.sha256, s.issued_at,
              s.expires_at, s.category, s.confidence, s.tlp, s.share_with, s.received_at, r.receipt, r.audit_index
         FROM statement s JOIN statement_receipt r ON r.statement_id = s.id WHERE s.id = ANY($1::uuid[]) AND ${visible}`,
      params,
    )) as StatementRow[];
  }

  /** Reported sites linked through the caller-visible statements of these indicators. */
  async sites(caller: Caller, indicatorIds: readonly string[]): Promise<SiteRow[]> {
    const params: unknown[] = [indicatorIds];
    const visible = statementVisible(caller, params);
    return (await this.dataSource.query(
      `SELECT DISTINCT ON (s.indicator_id, ss.fingerprint) s.indicator_id, ss.fingerprint, ss.url
         FROM statement s JOIN statement_site ss ON ss.statement_id = s.id
        WHERE s.indicator_id = ANY($1::uuid[]) AND ${visible}
        ORDER BY s.indicator_id, ss.fingerprint`,
      params,
    )) as SiteRow[];
  }
}
