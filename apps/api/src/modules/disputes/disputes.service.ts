import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type Caller, hasRole, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Role } from '../../common/roles.js';
import { optionalText, text, uuid } from '../../common/validate.js';
import { type AuditEventInput, AuditService } from '../audit/audit.service.js';
import { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import { indicatorVisible, type IndicatorRow } from '../indicators/indicator.rows.js';
import { notifyActioned, TRANSITIONS, transition } from '../indicators/indicator-status.js';
import { DISPUTE_COLUMNS, DISPUTE_STATUSES, type DisputeRow, type DisputeStatus } from './dispute.rows.js';
import { decodeCursor, pageSize } from '../../common/paging.js';
import { updatedRows, visibleIndicator } from './feedback.shared.js';


export interface DisputeResult {
  dispute: DisputeRow;
  /** The indicator as the change left it (to prime the request's loader). */
  indicator: IndicatorRow | null;
}

/** Who sees every dispute: curators of a coordinator member. Everyone else sees its own member's. */
export function seesAllDisputes(caller: Caller): boolean {
  return isCoordinator(caller) && hasRole(caller, Role.CURATOR);
}

/**
 * Disputes (issue 5): a member that can see an indicator disputes it (ACTIVE/DISPUTED → DISPUTED,
 * it still matches); a curator upholds the dispute (→ REVOKED, members that ACTIONED it are told)
 * or rejects it (the status before the dispute comes back once no other dispute is open).
 * Every change and its audit events are one transaction; the indicator row is always locked
 * before any dispute row, so concurrent decisions serialise instead of deadlocking.
 */
@Injectable()
export class DisputesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async open(caller: Caller, indicatorId: string, reason: string): Promise<DisputeResult> {
    const id = uuid('id', indicatorId);
    const why = text('reason', reason, 2000);
    return this.dataSource.transaction(async (em) => {
      // Visibility first, with the row lock that transition() takes again: invisible = absent.
      await visibleIndicator(em, caller, id, 'id', 'FOR UPDATE');
      const [mine] = (await em.query(`SELECT id FROM dispute WHERE indicator_id = $1 AND member_id = $2 AND status = 'OPEN' LIMIT 1`, [
        id,
        caller.memberId,
      ])) as { id: string }[];
      if (mine) throw CordonException.badInput('id', `your member already has an OPEN dispute on this indicator (${mine.id})`);
      const [dispute] = (await em.query(
        `INSERT INTO dispute AS d (indicator_id, member_id, principal_id, reason, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${DISPUTE_COLUMNS}`,
        [id, caller.memberId, caller.principalId, why, this.clock.now()],
      )) as DisputeRow[];
      const indicator = await transition(em, this.audit, {
        indicatorId: id,
        action: 'DISPUTE',
        caller,
        note: why,
        data: { disputeId: dispute.id },
      });
      await this.audit.record(em, {
        action: 'dispute.open',
        actor: caller,
        subjectId: dispute.id,
        subjectMemberId: caller.memberId,
        data: { indicatorId: id, fingerprint: indicator.fingerprint, reason: why },
      });
      return { dispute, indicator };
    });
  }

  async resolve(caller: Caller, disputeId: string, upheld: boolean, note: string | null | undefined): Promise<DisputeResult> {
    const id = uuid('id', disputeId);
    const why = optionalText('note', note, 2000);
    if (!isCoordinator(caller)) throw CordonException.forbidden('only curators of a coordinator member resolve disputes');
    return this.dataSource.transaction(async (em) => {
      const [peek] = (await em.query(`SELECT indicator_id FROM dispute WHERE id = $1`, [id])) as { indicator_id: string }[];
      if (!peek) throw CordonException.notFound('dispute', 'id');
      let locked: IndicatorRow;
      try {
        locked = await visibleIndicator(em, caller, peek.indicator_id, 'id', 'FOR UPDATE');
      } catch {
        throw CordonException.notFound('dispute', 'id');
      }
      const [dispute] = (await em.query(`SELECT ${DISPUTE_COLUMNS} FROM dispute d WHERE d.id = $1 FOR UPDATE`, [id])) as DisputeRow[];
      if (dispute.status !== 'OPEN') {
        throw CordonException.badInput('id', `the dispute is ${dispute.status} already; only an OPEN dispute can be resolved`);
      }
      return upheld ? this.uphold(em, caller, dispute, locked, why) : this.reject(em, caller, dispute, locked, why);
    });
  }

  private async uphold(em: EntityManager, caller: Caller, dispute: DisputeRow, locked: IndicatorRow, note: string | null): Promise<DisputeResult> {
    const now = this.clock.now();
    const [resolved] = updatedRows<DisputeRow>(await em.query(
      `UPDATE dispute AS d SET status = 'UPHELD', resolution = $2, resolved_by = $3, resolved_at = $4 WHERE d.id = $1 RETURNING ${DISPUTE_COLUMNS}`,
      [dispute.id, note ?? 'upheld', caller.principalId, now],
    ));
    // The indicator is revoked for everyone: every other open dispute on it was right as well.
    const others = updatedRows<{ id: string; member_id: string }>(await em.query(
      `UPDATE dispute AS d SET status = 'UPHELD', resolution = $3, resolved_by = $4, resolved_at = $5
        WHERE d.indicator_id = $1 AND d.status = 'OPEN' AND d.id <> $2 RETURNING d.id, d.member_id`,
      [dispute.indicator_id, dispute.id, `upheld together with dispute ${dispute.id}${note ? `: ${note}` : ''}`, caller.principalId, now],
    ));
    // DISPUTED → REVOKED. Should the indicator have moved on meanwhile (expired, re-activated),
    // an upheld dispute still revokes it; one already REVOKED or REJECTED stays as it is.
    const from = locked.status as IndicatorStatus;
    const action = from === IndicatorStatus.DISPUTED ? 'UPHOLD_DISPUTE' : TRANSITIONS.REVOKE.from.includes(from) ? 'REVOKE' : null;
    const data = { disputeId: dispute.id, upheld: true, alsoUpheld: others.map((o) => o.id) };
    const indicator = action ? await transition(em, this.audit, { indicatorId: dispute.indicator_id, action, caller, note, data }) : null;
    const notified = await notifyActioned(
      em,
      dispute.indicator_id,
      'DISPUTE_UPHELD',
      `A dispute on indicator ${locked.fingerprint} was upheld and the indicator is ${indicator?.status ?? from}: ` +
        'it no longer matches; reverse any action you took because of it.',
    );
    const events: AuditEventInput[] = [
      {
        action: 'dispute.uphold',
        actor: caller,
        subjectId: dispute.id,
        subjectMemberId: dispute.member_id,
        data: { indicatorId: dispute.indicator_id, fingerprint: locked.fingerprint, note, alsoUpheld: others.map((o) => o.id), notifiedMembers: notified },
      },
      ...others.map((o) => ({
        action: 'dispute.uphold',
        actor: caller,
        subjectId: o.id,
        subjectMemberId: o.member_id,
        data: { indicatorId: dispute.indicator_id, fingerprint: locked.fingerprint, with: dispute.id },
      })),
    ];
    await this.audit.recordMany(em, events);
    return { dispute: resolved, indicator };
  }

  private async reject(em: EntityManager, caller: Caller, dispute: DisputeRow, locked: IndicatorRow, note: string | null): Promise<DisputeResult> {
    const [resolved] = updatedRows<DisputeRow>(await em.query(
      `UPDATE dispute AS d SET status = 'REJECTED', resolution = $2, resolved_by = $3, resolved_at = $4 WHERE d.id = $1 RETURNING ${DISPUTE_COLUMNS}`,
      [dispute.id, note ?? 'rejected', caller.principalId, this.clock.now()],
    ));
    const [{ open }] = (await em.query(`SELECT count(*)::int AS open FROM dispute WHERE indicator_id = $1 AND status = 'OPEN'`, [
      dispute.indicator_id,
    ])) as { open: number }[];
    // The last open dispute gone: the status before the dispute comes back. Otherwise it stays DISPUTED.
    const restore = open === 0 && locked.status === IndicatorStatus.DISPUTED;
    const indicator = restore
      ? await transition(em, this.audit, {
          indicatorId: dispute.indicator_id,
          action: 'DISMISS_DISPUTE',
          caller,
          note,
          data: { disputeId: dispute.id, upheld: false },
        })
      : null;
    await this.audit.record(em, {
      action: 'dispute.reject',
      actor: caller,
      subjectId: dispute.id,
      subjectMemberId: dispute.member_id,
      data: { indicatorId: dispute.indicator_id, fingerprint: locked.fingerprint, note, otherOpenDisputes: open },
    });
    return { dispute: resolved, indicator };
  }

  /** One dispute: curators any, everyone else its own member's; null otherwise (as absent). */
  async get(caller: Caller, id: string): Promise<DisputeRow | null> {
    const params: unknown[] = [uuid('id', id)];
    const where = [`d.id = $1`, indicatorVisible(caller, params)];
    if (!seesAllDisputes(caller)) {
      params.push(caller.memberId);
      where.push(`d.member_id = $${params.length}::uuid`);
    }
    const [row] = (await this.dataSource.query(
      `SELECT ${DISPUTE_COLUMNS} FROM dispute d JOIN indicator i ON i.id = d.indicator_id WHERE ${where.join(' AND ')}`,
      params,
    )) as DisputeRow[];
    return row ?? null;
  }

  /** Oldest first (a curator's queue), scoped as get(). */
  async page(
    caller: Caller,
    filter: { status?: string | null; indicatorId?: string | null },
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<{ rows: (DisputeRow & { created_us: string })[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    const status = filter.status == null ? null : filter.status.trim().toUpperCase();
    if (status !== null && !DISPUTE_STATUSES.includes(status as DisputeStatus)) {
      throw CordonException.badInput('status', `must be one of ${DISPUTE_STATUSES.join(', ')}`);
    }
    const indicatorId = filter.indicatorId == null ? null : uuid('indicatorId', filter.indicatorId);
    const cursor = after ? decodeCursor('disputes', after) : null;
    const params: unknown[] = [];
    const where = [indicatorVisible(caller, params)];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (!seesAllDisputes(caller)) add((n) => `d.member_id = $${n}::uuid`, caller.memberId);
    if (status) add((n) => `d.status = $${n}`, status);
    if (indicatorId) add((n) => `d.indicator_id = $${n}::uuid`, indicatorId);
    if (cursor) {
      params.push(cursor.micros, cursor.id);
      where.push(
        `(d.created_at, d.id) > ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`,
      );
    }
    params.push(size + 1);
    const rows = (await this.dataSource.query(
      `SELECT ${DISPUTE_COLUMNS}, (extract(epoch FROM d.created_at) * 1000000)::bigint::text AS created_us
         FROM dispute d JOIN indicator i ON i.id = d.indicator_id
        WHERE ${where.join(' AND ')}
        ORDER BY d.created_at, d.id
        LIMIT $${params.length}`,
      params,
    )) as (DisputeRow & { created_us: string })[];
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }
}
