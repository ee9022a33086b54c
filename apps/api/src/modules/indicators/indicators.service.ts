import { Injectable } from '@nestjs/common';
import { EVM_ALIASES } from '@app/canonical';
import type { Caller } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { decodeCursor, pageSize } from '../../common/paging.js';
import { requestLoader } from '../../common/request-loader.js';
import { uuid } from '../../common/validate.js';
import type { IndicatorRow, StatementRow } from './indicator.rows.js';
import { type IndicatorFilterValues, IndicatorsRepository, type SiteRow, type ViewerAggregates } from './indicators.repository.js';


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

/** Reads of indicators for a caller: visible ones only, batched per request. */
@Injectable()
export class IndicatorsService {
  constructor(private readonly repository: IndicatorsRepository) {}

  /** One visible indicator by id, through the request's loader; null when absent or invisible. */
  async get(req: object, caller: Caller, id: string, field = 'id'): Promise<IndicatorRow | null> {
    return (await this.indicatorLoader(req, caller).load(uuid(field, id))) ?? null;
  }

  indicatorLoader(req: object, caller: Caller) {
    return requestLoader<string, IndicatorRow | undefined>(req, 'indicator', async (ids) => {
      const rows = await this.repository.findVisible(caller, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id));
    });
  }

  statementsOf(req: object, caller: Caller, indicatorId: string): Promise<StatementRow[]> {
    return requestLoader<string, StatementRow[]>(req, 'statements', async (ids) => {
      const grouped = groupBy(await this.repository.statements(caller, ids), (r) => r.indicator_id);
      return ids.map((id) => grouped.get(id) ?? []);
    }).load(indicatorId);
  }

  statement(req: object, caller: Caller, id: string): Promise<StatementRow | undefined> {
    return requestLoader<string, StatementRow | undefined>(req, 'statement', async (ids) => {
      const byId = new Map((await this.repository.statementsById(caller, ids)).map((r) => [r.id, r]));
      return ids.map((sid) => byId.get(sid));
    }).load(id);
  }

  /** The caller's view of an indicator's derived fields (undefined when it sees no statement of it). */
  viewOf(req: object, caller: Caller, indicatorId: string): Promise<ViewerAggregates | undefined> {
    return requestLoader<string, ViewerAggregates | undefined>(req, 'viewer-aggregates', async (ids) => {
      const byId = new Map((await this.repository.viewerAggregates(caller, ids)).map((r) => [r.indicator_id, r]));
      return ids.map((id) => byId.get(id));
    }).load(indicatorId);
  }

  sitesOf(req: object, caller: Caller, indicatorId: string): Promise<SiteRow[]> {
    return requestLoader<string, SiteRow[]>(req, 'sites', async (ids) => {
      const grouped = groupBy(await this.repository.sites(caller, ids), (r) => r.indicator_id);
      return ids.map((id) => grouped.get(id) ?? []);
    }).load(indicatorId);
  }

  async page(
    caller: Caller,
    first: number | null | undefined,
    after: string | null | undefined,
    filter: IndicatorFilterValues,
  ): Promise<{ rows: (IndicatorRow & { updated_us: string })[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    const cursor = after ? decodeCursor('indicators', after) : undefined;
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
      network: network === undefined ? undefined : (EVM_ALIASES as readonly string[]).includes(network) ? 'ethereum' : network,
    };
    const rows = await this.repository.list(caller, values, size, cursor);
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }
}
