import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type Caller, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { requestLoader } from '../../common/request-loader.js';
import { optionalText, uuid } from '../../common/validate.js';
import { type Tx, Transactions } from '../audit/transactions.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import type { SightingCountRow, SightingRow } from './dispute.rows.js';
import type { SightingKind } from './dto/sighting.object.js';

export interface SightingCounts {
  seen: number;
  falsePositive: number;
  actioned: number;
}

/** Sightings: members' feedback on indicators they can see (SEEN, FALSE_POSITIVE, ACTIONED). */
@Injectable()
export class SightingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly store: IndicatorStore,
    private readonly clock: Clock,
  ) {}

  async report(caller: Caller, indicatorId: string, kind: SightingKind, note: string | null | undefined): Promise<SightingRow> {
    const id = uuid('indicatorId', indicatorId);
    const why = optionalText('note', note, 2000);
    return this.transactions.run(caller, async (tx) => {
      const indicator = await this.store.view(caller, id, tx);
      if (!indicator) throw CordonException.notFound('indicator', 'indicatorId');
      // The foreign key takes a share lock on the indicator: a concurrent revocation (which
      // notifies ACTIONED reporters) either sees this sighting or runs after it is committed.
      const [row] = (await tx.em.query(
        `INSERT INTO sighting (indicator_id, member_id, principal_id, kind, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, indicator_id, member_id, principal_id, kind, note, created_at`,
        [id, caller.memberId, caller.principalId, kind, why, this.clock.now()],
      )) as SightingRow[];
      await tx.record({
        action: 'sighting.report',
        subjectId: row.id,
        subjectMemberId: caller.memberId,
        data: { indicatorId: id, fingerprint: indicator.fingerprint, kind, note: why },
      });
      return row;
    });
  }

  /**
   * Counts per kind for many indicators with one query per request — of the sightings the caller
   * may weigh: those whose member reported them on a statement the caller sees too (visible to
   * both, received before the sighting). Feedback that rests only on evidence hidden from the
   * caller changes nothing it sees.
   */
  countsOf(req: object, caller: Caller, indicatorId: string): Promise<SightingCounts> {
    return requestLoader<string, SightingCounts>(req, 'disputes:sighting-counts', async (ids) => {
      const params: unknown[] = [ids];
      const shared = this.store.sharedEvidenceSql(caller, params, {
        indicatorId: 'g.indicator_id',
        member: 'g.member_id',
        memberIsCoordinator: `(gm.kind = 'COORDINATOR')`,
        at: 'g.created_at',
      });
      const rows = (await this.dataSource.query(
        `SELECT g.indicator_id,
                -- once per member and kind: a member repeating a report does not count again
                count(DISTINCT g.member_id) FILTER (WHERE g.kind = 'SEEN')::int AS seen,
                count(DISTINCT g.member_id) FILTER (WHERE g.kind = 'FALSE_POSITIVE')::int AS false_positive,
                count(DISTINCT g.member_id) FILTER (WHERE g.kind = 'ACTIONED')::int AS actioned
           FROM sighting g JOIN member gm ON gm.id = g.member_id
          WHERE g.indicator_id = ANY($1::uuid[]) AND ${shared}
          GROUP BY g.indicator_id`,
        params,
      )) as SightingCountRow[];
      const byId = new Map(rows.map((r) => [r.indicator_id, r]));
      return ids.map((id) => {
        const r = byId.get(id);
        return { seen: r?.seen ?? 0, falsePositive: r?.false_positive ?? 0, actioned: r?.actioned ?? 0 };
      });
    }).load(indicatorId);
  }

  /**
   * The latest report per member and kind, with how many times it was made (one query per
   * request): a coordinator reads every member's, anyone else only its own member's.
   */
  latestReports(req: object, caller: Caller, indicatorId: string): Promise<(SightingRow & { report_count: number })[]> {
    return requestLoader<string, (SightingRow & { report_count: number })[]>(req, 'disputes:sighting-latest', async (ids) => {
      const rows = (await this.dataSource.query(
        `SELECT * FROM (
           SELECT DISTINCT ON (g.indicator_id, g.member_id, g.kind)
                  g.id, g.indicator_id, g.member_id, g.principal_id, g.kind, g.note, g.created_at,
                  count(*) OVER (PARTITION BY g.indicator_id, g.member_id, g.kind)::int AS report_count
             FROM sighting g
            WHERE g.indicator_id = ANY($1::uuid[]) AND ($2::boolean OR g.member_id = $3)
            ORDER BY g.indicator_id, g.member_id, g.kind, g.created_at DESC, g.id DESC
         ) latest ORDER BY created_at DESC, id DESC`,
        [ids, isCoordinator(caller), caller.memberId],
      )) as (SightingRow & { report_count: number })[];
      return ids.map((id) => rows.filter((r) => r.indicator_id === id));
    }).load(indicatorId);
  }

  /** The members that reported ACTIONED on the indicator (the remedy's addressees). */
  async actionedMembers(tx: Tx, indicatorId: string): Promise<string[]> {
    const rows = await tx.query<{ member_id: string }>(`SELECT DISTINCT member_id FROM sighting WHERE indicator_id = $1 AND kind = 'ACTIONED'`, [indicatorId]);
    return rows.map((r) => r.member_id);
  }
}
