import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { requestLoader } from '../../common/request-loader.js';
import { optionalText, uuid } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import type { SightingCountRow, SightingRow } from './dispute.rows.js';
import type { SightingKind } from './dto/sighting.object.js';
import { visibleIndicator } from './feedback.shared.js';

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
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async report(caller: Caller, indicatorId: string, kind: SightingKind, note: string | null | undefined): Promise<SightingRow> {
    const id = uuid('indicatorId', indicatorId);
    const why = optionalText('note', note, 2000);
    return this.dataSource.transaction(async (em) => {
      const indicator = await visibleIndicator(em, caller, id, 'indicatorId');
      // The foreign key takes a share lock on the indicator: a concurrent revocation (which
      // notifies ACTIONED reporters) either sees this sighting or runs after it is committed.
      const [row] = (await em.query(
        `INSERT INTO sighting (indicator_id, member_id, principal_id, kind, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, indicator_id, member_id, principal_id, kind, note, created_at`,
        [id, caller.memberId, caller.principalId, kind, why, this.clock.now()],
      )) as SightingRow[];
      await this.audit.record(em, {
        action: 'sighting.report',
        actor: caller,
        subjectId: row.id,
        subjectMemberId: caller.memberId,
        data: { indicatorId: id, fingerprint: indicator.fingerprint, kind, note: why },
      });
      return row;
    });
  }

  /** Counts per kind over every member, for many indicators with one query per request. */
  countsOf(req: object, indicatorId: string): Promise<SightingCounts> {
    return requestLoader<string, SightingCounts>(req, 'disputes:sighting-counts', async (ids) => {
      const rows = (await this.dataSource.query(
        `SELECT indicator_id,
                count(*) FILTER (WHERE kind = 'SEEN')::int AS seen,
                count(*) FILTER (WHERE kind = 'FALSE_POSITIVE')::int AS false_positive,
                count(*) FILTER (WHERE kind = 'ACTIONED')::int AS actioned
           FROM sighting WHERE indicator_id = ANY($1::uuid[]) GROUP BY indicator_id`,
        [ids],
      )) as SightingCountRow[];
      const byId = new Map(rows.map((r) => [r.indicator_id, r]));
      return ids.map((id) => {
        const r = byId.get(id);
        return { seen: r?.seen ?? 0, falsePositive: r?.false_positive ?? 0, actioned: r?.actioned ?? 0 };
      });
    }).load(indicatorId);
  }
}
