import { Injectable } from '@nestjs/common';
import { canonicalNetwork } from '@app/canonical';
import type { Caller } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { decodeCursor, pageSize } from '../../common/paging.js';
import { requestLoader } from '../../common/request-loader.js';
import { uuid } from '../../common/validate.js';
import type { IndicatorView, SiteRow, StatementRow } from './indicator.rows.js';
import { type FeedPosition, type IndicatorFilterValues, IndicatorStore } from './indicator.store.js';

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return map;
}

/** Reads of indicators for GraphQL: through the store (per viewer), batched per request. */
@Injectable()
export class IndicatorsService {
  constructor(private readonly store: IndicatorStore) {}

  /** One indicator as the caller sees it, through the request's loader; null when absent or invisible. */
  async get(req: object, caller: Caller, id: string, field = 'id'): Promise<IndicatorView | null> {
    return (await this.viewLoader(req, caller).load(uuid(field, id))) ?? null;
  }

  /** The request's loader of the caller's views (prime it with views a mutation just computed). */
  viewLoader(req: object, caller: Caller) {
    return requestLoader<string, IndicatorView | undefined>(req, 'indicator-view', async (ids) => {
      const byId = new Map((await this.store.views(caller, ids)).map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    });
  }

  statementsOf(req: object, caller: Caller, indicatorId: string): Promise<StatementRow[]> {
    return requestLoader<string, StatementRow[]>(req, 'statements', async (ids) => {
      const grouped = groupBy(await this.store.statementsOf(caller, ids), (r) => r.indicator_id);
      return ids.map((id) => grouped.get(id) ?? []);
    }).load(indicatorId);
  }

  statement(req: object, caller: Caller, id: string): Promise<StatementRow | undefined> {
    return requestLoader<string, StatementRow | undefined>(req, 'statement', async (ids) => {
      const byId = new Map((await this.store.statementsById(caller, ids)).map((r) => [r.id, r]));
      return ids.map((sid) => byId.get(sid));
    }).load(id);
  }

  /** The latest curator decision on a statement (for its own member and coordinators; see the resolver). */
  reviewOf(req: object, statement: { id: string; indicatorId: string }) {
    return requestLoader<string, Awaited<ReturnType<IndicatorStore['reviewsOf']>>[number] | undefined>(req, 'statement-reviews', async (keys) => {
      const pairs = keys.map((k) => ({ id: k.split('|')[0], indicatorId: k.split('|')[1] }));
      const byId = new Map((await this.store.reviewsOf(pairs)).map((r) => [r.statement_id, r]));
      return pairs.map((p) => byId.get(p.id));
    }).load(`${statement.id}|${statement.indicatorId}`);
  }

  sitesOf(req: object, caller: Caller, indicatorId: string): Promise<SiteRow[]> {
    return requestLoader<string, SiteRow[]>(req, 'sites', async (ids) => {
      const grouped = groupBy(await this.store.sitesOf(caller, ids), (r) => r.indicator_id);
      return ids.map((id) => grouped.get(id) ?? []);
    }).load(indicatorId);
  }

  async page(
    caller: Caller,
    first: number | null | undefined,
    after: string | null | undefined,
    filter: IndicatorFilterValues,
  ): Promise<{ rows: (IndicatorView & { position: FeedPosition })[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    const cursor = after ? decodeCursor('indicators-v2', after) : undefined;
    const network = filter.network?.trim().toLowerCase();
    // Nest's DateTime scalar turns any string into a Date, an invalid one included; PostgreSQL
    // refuses those and years before 4713 BC.
    const since = filter.updatedSince == null ? undefined : new Date(filter.updatedSince);
    if (since && (!Number.isFinite(since.getTime()) || since.getUTCFullYear() < -4712)) {
      throw CordonException.badInput('filter.updatedSince', 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z');
    }
    if (network !== undefined && (network.length > 64 || /[\p{Cc}\p{Cs}]/u.test(network))) {
      throw CordonException.badInput('filter.network', 'must be a network name such as bitcoin or ethereum (at most 64 characters)');
    }
    const values: IndicatorFilterValues = {
      ...filter,
      updatedSince: since,
      network: network === undefined ? undefined : (canonicalNetwork(network)?.network ?? network),
    };
    return this.store.list(caller, values, size, cursor && { idx: cursor.micros, id: cursor.id });
  }
}
