import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type Caller, hasRole, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import { decodeCursor, pageSize } from '../../common/paging.js';
import { Role } from '../../common/roles.js';
import { optionalText, text, uuid } from '../../common/validate.js';
import { type Tx, Transactions } from '../audit/transactions.js';
import type { IndicatorView } from '../indicators/indicator.rows.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import { DISPUTE_COLUMNS, DISPUTE_STATUSES, type DisputeRow, type DisputeStatus } from './dispute.rows.js';
import { NotificationsService } from './notifications.service.js';

export interface DisputeResult {
  dispute: DisputeRow;
  /** The indicator as the change left it, as the caller sees it (to prime the request's loader). */
  indicator: IndicatorView | null;
}

/** Who sees every dispute: curators of a coordinator member. Everyone else sees its own member's. */
export function seesAllDisputes(caller: Caller): boolean {
  return isCoordinator(caller) && hasRole(caller, Role.CURATOR);
}

/** What another open dispute on the same indicator says once a curator upholds one: no other member's words. */
const UPHELD_WITH_ANOTHER = 'upheld: the indicator was revoked on review';

/**
 * Disputes (issue 5): a member that can see an indicator disputes what it sees of it (its ACTIVE
 * or DISPUTED statements become DISPUTED; the indicator still matches); a curator upholds the
 * dispute (every statement → REVOKED, members that ACTIONED it are told) or rejects it (each
 * statement the dispute covered returns to its status before the dispute once no other open
 * dispute covers it). A resolution's note reaches only the member whose dispute it resolves.
 * Every change and its audit events are one transaction; the indicator row is always locked
 * before any dispute row, so concurrent decisions serialise instead of deadlocking.
 */
@Injectable()
export class DisputesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly store: IndicatorStore,
    private readonly notifications: NotificationsService,
    private readonly clock: Clock,
  ) {}

  async open(caller: Caller, indicatorId: string, reason: string): Promise<DisputeResult> {
    const id = uuid('id', indicatorId);
    const why = text('reason', reason, 2000);
    return this.transactions.run(caller, async (tx) => {
      // Visibility first, with the row lock: invisible = absent.
      const seen = await this.store.lockVisible(tx, id);
      const [mine] = await tx.query<{ id: string }>(`SELECT id FROM dispute WHERE indicator_id = $1 AND member_id = $2 AND status = 'OPEN' LIMIT 1`, [
        id,
        caller.memberId,
      ]);
      if (mine) throw CordonException.badInput('id', `your member already has an OPEN dispute on this indicator (${mine.id})`);
      const [dispute] = await tx.query<DisputeRow>(
        `INSERT INTO dispute AS d (indicator_id, member_id, principal_id, reason, created_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${DISPUTE_COLUMNS}`,
        [id, caller.memberId, caller.principalId, why, this.clock.now()],
      );
      const { after } = await this.store.transition(tx, { indicatorId: id, action: 'DISPUTE', note: why, disputeId: dispute.id, data: { disputeId: dispute.id } });
      await tx.record({
        action: 'dispute.open',
        subjectId: dispute.id,
        subjectMemberId: caller.memberId,
        data: { indicatorId: id, fingerprint: seen.fingerprint, reason: why },
      });
      return { dispute, indicator: after };
    });
  }

  async resolve(caller: Caller, disputeId: string, upheld: boolean, note: string | null | undefined): Promise<DisputeResult> {
    const id = uuid('id', disputeId);
    const why = optionalText('note', note, 2000);
    if (!isCoordinator(caller)) throw CordonException.forbidden('only curators of a coordinator member resolve disputes');
    return this.transactions.run(caller, async (tx) => {
      const [peek] = await tx.query<{ indicator_id: string }>(`SELECT indicator_id FROM dispute WHERE id = $1`, [id]);
      if (!peek) throw CordonException.notFound('dispute', 'id');
      let locked: IndicatorView;
      try {
        locked = await this.store.lockVisible(tx, peek.indicator_id);
      } catch {
        throw CordonException.notFound('dispute', 'id');
      }
      const [dispute] = await tx.query<DisputeRow>(`SELECT ${DISPUTE_COLUMNS} FROM dispute d WHERE d.id = $1 FOR UPDATE`, [id]);
      if (dispute.status !== 'OPEN') {
        throw CordonException.badInput('id', `the dispute is ${dispute.status} already; only an OPEN dispute can be resolved`);
      }
      return upheld ? this.uphold(tx, dispute, locked, why) : this.reject(tx, dispute, locked, why);
    });
  }

  private async uphold(tx: Tx, dispute: DisputeRow, locked: IndicatorView, note: string | null): Promise<DisputeResult> {
    const now = this.clock.now();
    const [resolved] = await tx.query<DisputeRow>(
        `UPDATE dispute AS d SET status = 'UPHELD', resolution = $2, resolved_by = $3, resolved_at = $4 WHERE d.id = $1 RETURNING ${DISPUTE_COLUMNS}`,
        [dispute.id, note ?? 'upheld', tx.actor.principalId, now],
    );
    // The indicator is revoked for everyone: every other open dispute on it was right as well. Each
    // of those members learns its own outcome — not this member's dispute, nor the curator's words to it.
    const others = await tx.query<{ id: string; member_id: string }>(
        `UPDATE dispute AS d SET status = 'UPHELD', resolution = $3, resolved_by = $4, resolved_at = $5
          WHERE d.indicator_id = $1 AND d.status = 'OPEN' AND d.id <> $2 RETURNING d.id, d.member_id`,
        [dispute.indicator_id, dispute.id, UPHELD_WITH_ANOTHER, tx.actor.principalId, now],
    );
    await this.notifications.notifyDisputants(tx, dispute.indicator_id, [
      { memberId: dispute.member_id, message: `your dispute of indicator ${locked.fingerprint} was upheld: ${note ?? 'upheld'}` },
      ...others.map((o) => ({ memberId: o.member_id, message: `your dispute of indicator ${locked.fingerprint} was ${UPHELD_WITH_ANOTHER}` })),
    ]);
    const notified = await this.notifications.notifyActioned(
      tx,
      dispute.indicator_id,
      'DISPUTE_UPHELD',
      `indicator ${locked.fingerprint} was revoked on review: it no longer matches; reverse any action you took because of it.`,
    );
    // Every statement → REVOKED; one with nothing left to revoke (already REVOKED or REJECTED) stays as it is.
    let indicator: IndicatorView | null = null;
    try {
      indicator = (
        await this.store.transition(tx, {
          indicatorId: dispute.indicator_id,
          action: 'UPHOLD_DISPUTE',
          note,
          data: { disputeId: dispute.id, upheld: true, alsoUpheld: others.map((o) => o.id), notifiedMembers: notified },
        })
      ).after;
    } catch (err) {
      if (!(err instanceof CordonException && err.code === ErrorCode.BAD_USER_INPUT)) throw err;
    }
    await tx.recordMany([
      {
        action: 'dispute.uphold',
        subjectId: dispute.id,
        subjectMemberId: dispute.member_id,
        data: { indicatorId: dispute.indicator_id, fingerprint: locked.fingerprint, note },
      },
      ...others.map((o) => ({
        action: 'dispute.uphold',
        subjectId: o.id,
        subjectMemberId: o.member_id,
        data: { indicatorId: dispute.indicator_id, fingerprint: locked.fingerprint, note: UPHELD_WITH_ANOTHER },
      })),
    ]);
    return { dispute: resolved, indicator };
  }

  private async reject(tx: Tx, dispute: DisputeRow, locked: IndicatorView, note: string | null): Promise<DisputeResult> {
    const [resolved] = await tx.query<DisputeRow>(
        `UPDATE dispute AS d SET status = 'REJECTED', resolution = $2, resolved_by = $3, resolved_at = $4 WHERE d.id = $1 RETURNING ${DISPUTE_COLUMNS}`,
        [dispute.id, note ?? 'rejected', tx.actor.principalId, this.clock.now()],
    );
    // Each statement this dispute covered returns to its status before the dispute once no other
    // open dispute covers it; the others stay DISPUTED.
    const { after } = await this.store.transition(tx, {
      indicatorId: dispute.indicator_id,
      action: 'DISMISS_DISPUTE',
      note,
      disputeId: dispute.id,
      data: { disputeId: dispute.id, upheld: false },
    });
    await this.notifications.notifyDisputants(tx, dispute.indicator_id, [
      { memberId: dispute.member_id, message: `your dispute of indicator ${locked.fingerprint} was rejected: ${note ?? 'rejected'}` },
    ]);
    await tx.record({
      action: 'dispute.reject',
      subjectId: dispute.id,
      subjectMemberId: dispute.member_id,
      data: { indicatorId: dispute.indicator_id, fingerprint: locked.fingerprint, note },
    });
    return { dispute: resolved, indicator: after };
  }

  /** One dispute: curators any, everyone else its own member's; null otherwise (as absent). */
  async get(caller: Caller, id: string): Promise<DisputeRow | null> {
    const params: unknown[] = [uuid('id', id)];
    const where = [`d.id = $1`, this.store.visibleSql(caller, params, 'd.indicator_id')];
    if (!seesAllDisputes(caller)) {
      params.push(caller.memberId);
      where.push(`d.member_id = $${params.length}::uuid`);
    }
    const [row] = (await this.dataSource.query(`SELECT ${DISPUTE_COLUMNS} FROM dispute d WHERE ${where.join(' AND ')}`, params)) as DisputeRow[];
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
    const where = [this.store.visibleSql(caller, params, 'd.indicator_id')];
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
         FROM dispute d
        WHERE ${where.join(' AND ')}
        ORDER BY d.created_at, d.id
        LIMIT $${params.length}`,
      params,
    )) as (DisputeRow & { created_us: string })[];
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }
}
