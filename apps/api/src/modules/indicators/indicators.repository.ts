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

export interface ViewerAggregates {
  indicator_id: string;
  attestation_count: number;
  confidence: number;
  category: string;
  first_seen: Date;
  last_seen: Date;
  tlp: string;
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
  async list(caller: Caller, filter: IndicatorFilterValues, first: number, after?: { micros: string; id: string }): Promise<(IndicatorRow & { updated_us: string })[]> {
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
      params.push(after.micros, after.id);
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

  /**
   * What an indicator shows a viewer, from the statements that viewer may see (SPEC 3: a
   * statement's own TLP governs it, so nothing here counts what the viewer cannot see):
   * attestation count, noisy-OR confidence, category, first/last seen, least restrictive TLP.
   * The rules are those of indicator-aggregates.ts; for a coordinator the result is the stored one.
   */
  async viewerAggregates(caller: Caller, indicatorIds: readonly string[]): Promise<ViewerAggregates[]> {
    const params: unknown[] = [indicatorIds];
    const visible = statementVisible(caller, params);
    return (await this.dataSource.query(
      `WITH vs AS (
         SELECT s.indicator_id, s.issuer_member_id, s.confidence, s.category, s.tlp, s.received_at,
                (s.expires_at IS NULL OR s.expires_at > now()) AS supporting
           FROM statement s WHERE s.indicator_id = ANY($1::uuid[]) AND ${visible}
       ),
       per_member AS (
         SELECT indicator_id, issuer_member_id, max(confidence) AS c FROM vs WHERE supporting GROUP BY 1, 2
       ),
       conf AS (
         SELECT indicator_id, count(*)::int AS members,
                CASE WHEN bool_or(c = 100) THEN 100
                     ELSE round(100 * (1 - exp(sum(ln(1 - least(c, 99.999) / 100.0)))))::int END AS confidence
           FROM per_member GROUP BY 1
       ),
       cat AS (
         SELECT DISTINCT ON (indicator_id) indicator_id, category
           FROM (SELECT indicator_id, category, count(DISTINCT issuer_member_id) FILTER (WHERE supporting) AS sup,
                        count(DISTINCT issuer_member_id) AS n, min(received_at) AS first
                   FROM vs GROUP BY 1, 2) x
          ORDER BY indicator_id, sup DESC, n DESC, first
       ),
       agg AS (
         SELECT indicator_id, min(received_at) AS first_seen, max(received_at) AS last_seen,
                min(array_position(ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED'], tlp)) AS tlp_rank
           FROM vs GROUP BY 1
       )
       SELECT agg.indicator_id, coalesce(conf.members, 0) AS attestation_count, coalesce(conf.confidence, 0) AS confidence,
              cat.category, agg.first_seen, agg.last_seen, (ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED'])[agg.tlp_rank] AS tlp
         FROM agg LEFT JOIN conf USING (indicator_id) JOIN cat USING (indicator_id)`,
      params,
    )) as ViewerAggregates[];
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
